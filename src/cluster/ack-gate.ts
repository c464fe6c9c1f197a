/**
 * A QoS 1/2 publisher is acknowledged only once NATS holds what this node sent to the other
 * nodes: its acknowledgement waits, as for a store commit, for a flush (a PING answered by the
 * NATS server after the messages before it). When the NATS server dies first, the messages of
 * that batch are sent again once the node is connected to another server (at least once towards
 * the other nodes), and only then acknowledged. One round trip per turn of the event loop, not
 * per message. While NATS is away nothing is sent and nothing waits: the node serves alone.
 */
import type { Broker } from '../core/broker.js';
import type { Message } from '../core/message.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import { runCommitCallbacks } from '../store/commit-callbacks.js';
import type { NatsLink } from './nats-link.js';

/** What the gate counted since the start. */
export interface AckGateCounters {
  /** flushes that confirmed a batch */
  flushes: number;
  /** batches sent again after their NATS server went away */
  resent: number;
  /** batches acknowledged without confirmation (NATS away longer than --cluster-ack-timeout) */
  unconfirmed: number;
}

interface Batch {
  fns: unknown[];
  args: unknown[];
  msgs: Message[];
}

export class AckGate {
  readonly counters: AckGateCounters = { flushes: 0, resent: 0, unconfirmed: 0 };
  private current: Batch = { fns: [], args: [], msgs: [] };
  private scheduled = false;
  /** The confirmation of the previous batch: acknowledgements keep their order. */
  private previous: Promise<void> = Promise.resolve();
  private readonly startBatch = (gate: AckGate): void => gate.take();

  constructor(
    private readonly broker: Broker,
    private readonly link: NatsLink,
    /** sends a message to the other nodes again (RemoteRoutes.forward) */
    private readonly resend: (msg: Message) => void,
    private readonly timeoutMs: number,
    private readonly log: Logger,
    private readonly logLimit: LogRateLimit,
  ) {}

  /** Holds the acknowledgements of QoS 1/2 messages sent to NATS; returns the function that stops. */
  attach(): () => void {
    const off = this.broker.hooks.on('messageForward', (msg) => this.forwarding(msg));
    this.broker.commitGate = this;
    return () => {
      off();
      if (this.broker.commitGate === this) this.broker.commitGate = null;
    };
  }

  /** messageForward: a QoS 1/2 message about to go to the other nodes makes its publisher's ack wait. */
  private forwarding(msg: Message): boolean {
    if (msg.qos === 0 || msg.topic.charCodeAt(0) === 0x24 || !this.link.up) return false;
    this.current.msgs.push(msg);
    // Taken at the end of this turn even if no one waits for an ack (a will, a device that is not acknowledged).
    this.schedule();
    return true;
  }

  /** Broker.afterCommit while the cluster runs: after the store's commit, after NATS confirmed. */
  afterCommit<T>(fn: (arg: T) => void, arg: T): void {
    this.current.fns.push(fn);
    this.current.args.push(arg);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.broker.store.afterCommit(this.startBatch, this);
  }

  private take(): void {
    const batch = this.current;
    this.current = { fns: [], args: [], msgs: [] };
    this.scheduled = false;
    const before = this.previous;
    this.previous = before.then(() => this.confirm(batch));
  }

  private async confirm(batch: Batch): Promise<void> {
    if (batch.msgs.length > 0) {
      const until = Date.now() + this.timeoutMs;
      let resend = false;
      for (;;) {
        const nc = this.link.nc;
        if (nc !== null && this.link.up) {
          if (resend) {
            for (const msg of batch.msgs) this.resend(msg);
            this.counters.resent++;
          }
          try {
            await nc.flush();
            this.counters.flushes++;
            break;
          } catch {
            // The server went away with the batch perhaps unread: send it again once connected.
            resend = true;
          }
        } else resend = true;
        if (Date.now() >= until) {
          this.counters.unconfirmed++;
          if (this.logLimit.allow('cluster-ack-gate'))
            this.log.warn('QoS 1/2 messages acknowledged without NATS confirming them (NATS away longer than --cluster-ack-timeout)', { messages: batch.msgs.length, waitedMs: this.timeoutMs });
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    runCommitCallbacks(batch.fns, batch.args, undefined);
  }
}
