/**
 * QoS 2 between nodes without the journal: every message this node sends on carries one id, the
 * same on each copy (a batch sent again after a NATS server failover), and a receiving node drops
 * an id it saw lately. One per node, shared by messages routed by topic and point-to-point ones.
 */
import { RecentSet } from './recent-set.js';

export class Qos2Copies {
  /** the node's name and this run's start: ids never meet those of another node or run */
  private readonly prefix: string;
  private next = 0;
  private readonly recent = new RecentSet<string>(120_000, 200_000);

  constructor(node: string) {
    this.prefix = `${node}.${Date.now().toString(36)}.`;
  }

  /** A new id for a QoS 2 message leaving this node. */
  newId(): string {
    return this.prefix + (this.next++).toString(36);
  }

  /** True for an id seen within two minutes (a copy sent again); '' (no id) never. */
  repeated(id: string): boolean {
    return id !== '' && this.recent.seen(id);
  }
}
