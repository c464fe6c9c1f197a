/**
 * The nodes of the cluster: each node publishes a heartbeat (its name, connection counts, NATS
 * state) every --cluster-heartbeat seconds on $JUNCTION.nodes and keeps the others' last one;
 * a node silent for three heartbeats is reported lost, one that says goodbye has left. Changes
 * are logged; GET /api/v1/nodes lists them. Two nodes with one --node-name are named in the log.
 */
import { randomUUID } from 'node:crypto';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { Broker } from '../core/broker.js';
import type { GatewayContext } from '../gateway/context.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { LinkListener, LinkState, NatsLink } from './nats-link.js';

export const NODES_SUBJECT = '$JUNCTION.nodes';
/** Heartbeats a node may miss before it is reported lost. */
const MISSED_BEATS = 3;

/** What one node tells the others in its heartbeat. */
export interface Heartbeat {
  name: string;
  /** random per process: tells a restarted node, or a second one with the same name */
  instance: string;
  version: string;
  startedAt: number;
  /** connections open over every protocol */
  connections: number;
  /** sessions with a connection attached */
  online: number;
  subscriptions: number;
  /** resident memory in bytes */
  rss: number;
  nats: { state: LinkState; server: string };
  /** what went between this node and the others since it started (remote-routes.ts, retained-sync.ts) */
  traffic: Record<string, number>;
  /** true in the last heartbeat of a node that stops */
  leaving?: boolean;
}

/** One node as GET /api/v1/nodes shows it. */
export interface ClusterNodeView extends Omit<Heartbeat, 'instance' | 'leaving'> {
  self: boolean;
  status: 'running' | 'lost' | 'left';
  uptimeSeconds: number;
  /** ms since its last heartbeat (0 for this node) */
  lastSeenMs: number;
}

interface Known {
  beat: Heartbeat;
  lastSeen: number;
  status: ClusterNodeView['status'];
}

export class ClusterNodes implements LinkListener {
  private readonly instance = randomUUID();
  private readonly others = new Map<string, Known>();
  private readonly timer: NodeJS.Timeout;
  private nc: NatsConnection | null = null;
  /** Told when a node is reported lost (the client registry takes its clients over). */
  onLost: ((name: string) => void) | null = null;
  /** Told when a node says goodbye (the client registry keeps its persistent sessions while it is away). */
  onLeft: ((name: string) => void) | null = null;

  constructor(
    private readonly broker: Broker,
    private readonly kit: GatewayContext,
    private readonly link: NatsLink,
    private readonly node: string,
    private readonly version: string,
    private readonly startedAt: number,
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly logLimit: LogRateLimit,
    private readonly traffic: () => Record<string, number>,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  up(nc: NatsConnection, first: boolean): void {
    this.nc = nc;
    if (first) nc.subscribe(NODES_SUBJECT, { callback: (err, m) => this.onBeat(err, m) });
    this.beat(false);
  }

  down(): void {}

  private heartbeat(leaving: boolean): Heartbeat {
    const beat: Heartbeat = {
      name: this.node,
      instance: this.instance,
      version: this.version,
      startedAt: this.startedAt,
      connections: this.kit.connections,
      online: this.broker.onlineCount,
      subscriptions: this.broker.subscriptionCount,
      rss: process.memoryUsage().rss,
      nats: { state: this.link.state, server: this.link.server },
      traffic: this.traffic(),
    };
    if (leaving) beat.leaving = true;
    return beat;
  }

  private beat(leaving: boolean): void {
    if (this.nc === null || !this.link.up) return;
    try {
      this.nc.publish(NODES_SUBJECT, JSON.stringify(this.heartbeat(leaving)));
    } catch {
      // The connection closed under us: the next heartbeat tries again.
    }
  }

  private tick(): void {
    this.beat(false);
    const now = Date.now();
    for (const [name, k] of this.others) {
      if (k.status === 'running' && now - k.lastSeen > MISSED_BEATS * this.intervalMs) {
        k.status = 'lost';
        this.log.warn('cluster node lost: no heartbeat', { node: name, silentMs: now - k.lastSeen, connections: k.beat.connections });
        this.logNodes();
        this.onLost?.(name);
      }
    }
  }

  private onBeat(err: Error | null, m: Msg): void {
    if (err !== null) return;
    let beat: Heartbeat;
    try {
      beat = JSON.parse(m.string()) as Heartbeat;
    } catch {
      return;
    }
    // Anyone on NATS may publish here: only a heartbeat's shape is taken.
    if (typeof beat !== 'object' || beat === null || typeof beat.name !== 'string' || typeof beat.instance !== 'string' || typeof beat.nats !== 'object' || beat.nats === null) return;
    if (beat.name === this.node) {
      if (beat.instance !== this.instance && this.logLimit.allow('cluster-duplicate-name')) {
        this.log.error('another node of the cluster uses this --node-name: give every node its own', { node: this.node });
      }
      return;
    }
    const known = this.others.get(beat.name);
    const status = beat.leaving === true ? 'left' : 'running';
    this.others.set(beat.name, { beat, lastSeen: Date.now(), status });
    if (known === undefined || known.status !== status || known.beat.instance !== beat.instance) {
      if (status === 'left') {
        this.log.info('cluster node left', { node: beat.name });
        this.onLeft?.(beat.name);
      } else this.log.info('cluster node joined', { node: beat.name, connections: beat.connections, nats: beat.nats.server });
      this.logNodes();
    }
  }

  private logNodes(): void {
    this.log.info('cluster nodes', {
      nodes: this.views().map((v) => ({ name: v.name, status: v.status, connections: v.connections, nats: v.nats.state })),
    });
  }

  /** The names of the other nodes heard from lately (not lost, not left). */
  running(): string[] {
    const out: string[] = [];
    for (const [name, k] of this.others) if (k.status === 'running') out.push(name);
    return out;
  }

  /** Every node known, this one first. */
  views(): ClusterNodeView[] {
    const now = Date.now();
    const view = (beat: Heartbeat, self: boolean, status: ClusterNodeView['status'], lastSeen: number): ClusterNodeView => ({
      name: beat.name,
      self,
      status,
      version: beat.version,
      startedAt: beat.startedAt,
      uptimeSeconds: Math.floor((now - beat.startedAt) / 1000),
      connections: beat.connections,
      online: beat.online,
      subscriptions: beat.subscriptions,
      rss: beat.rss,
      nats: beat.nats,
      traffic: beat.traffic ?? {},
      lastSeenMs: now - lastSeen,
    });
    const out = [view(this.heartbeat(false), true, 'running', now)];
    for (const k of this.others.values()) out.push(view(k.beat, false, k.status, k.lastSeen));
    return out;
  }

  /** Says goodbye to the others and stops beating. */
  close(): void {
    clearInterval(this.timer);
    this.beat(true);
  }
}
