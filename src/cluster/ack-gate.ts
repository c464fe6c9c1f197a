/**
 * A QoS 1/2 publisher is acknowledged only once NATS holds what this node sent to the other
 * nodes: its acknowledgement waits, as for a store commit, for a flush (a PING answered by the
 * NATS server after the messages before it). When the NATS server dies first, the messages of
 * that batch are sent again once the node is connected to another server (at least once towards
 * the other nodes), and only then acknowledged. One round trip per turn of the event loop, not
 * per message. While NATS is away nothing waits (the node serves alone) and the QoS 1/2
 * messages published meanwhile are kept, up to --cluster-outage-buffer, and sent once NATS is
 * back, so a NATS server failover loses nothing this node acknowledged.
 */
import type { Broker } from '../core/broker.js';
import type { Message } from '../core/message.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import { runCommitCallbacks } from '../store/commit-callbacks.js';
import type { StoreFullError } from '../store/errors.js';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Journal } from './journal.js';
import type { LinkListener, NatsLink } from './nats-link.js';

/** What the gate counted since the start. */
export interface AckGateCounters {
  /** flushes that confirmed a batch */
  flushes: number;
  /** batches sent again after their NATS server went away */
  resent: number;
  /** batches acknowledged without confirmation (NATS away longer than --cluster-ack-timeout) */
  unconfirmed: number;
  /** QoS 1/2 messages published while NATS was away, sent when it came back */
  outageSent: number;
  /** ... and the oldest of them dropped past --cluster-outage-buffer */
  outageDropped: number;
}

interface Batch {
  fns: unknown[];
  args: unknown[];
  msgs: Message[];
  /** what must happen before the flush (point-to-point messages finding their node) */
  waits: Promise<void>[];
  /** the NATS server the messages were written to ('' before the first; '*' when they went to several) */
  server: string;
}

function newBatch(): Batch {
  return { fns: [], args: [], msgs: [], waits: [], server: '' };
}

/** The id of the NATS server `nc` is connected to now. */
function serverOf(nc: NatsConnection | null): string {
  return nc?.info?.server_id ?? '';
}

/** Notes that messages of `batch` went to the server `nc` is connected to ('*' once they went to several). */
function wroteTo(batch: Batch, nc: NatsConnection | null): void {
  const server = serverOf(nc);
  if (batch.server === '') batch.server = server;
  else if (batch.server !== server) batch.server = '*';
}

export class AckGate implements LinkListener {
  readonly counters: AckGateCounters = { flushes: 0, resent: 0, unconfirmed: 0, outageSent: 0, outageDropped: 0 };
  /** QoS 1/2 messages published while NATS was away, oldest first. */
  private outage: Message[] = [];
  private current: Batch = newBatch();
  private scheduled = false;
  /** The confirmation of the previous batch: acknowledgements keep their order. */
  private previous: Promise<void> = Promise.resolve();
  private readonly startBatch = (gate: AckGate, failure: StoreFullError | null): void => gate.take(failure);

  /** --cluster-durable-qos: acknowledgements wait for JetStream to hold the messages too */
  journal: Journal | null = null;

  constructor(
    private readonly broker: Broker,
    private readonly link: NatsLink,
    /** sends a message to the other nodes again; `afterOutage` when it had not gone at all; a promise when it is sent later */
    private readonly resend: (msg: Message, afterOutage: boolean) => Promise<void> | null,
    private readonly timeoutMs: number,
    private readonly outageMax: number,
    private readonly log: Logger,
    private readonly logLimit: LogRateLimit,
  ) {}

  /** Holds the acknowledgements of QoS 1/2 messages sent to NATS; returns the function that stops. */
  attach(): () => void {
    const off = this.broker.hooks.on('messageForward', (msg) => this.forwarding(msg));
    // --cluster-ack-timeout 0: acknowledgements do not wait for NATS (only the outage buffer works).
    if (this.timeoutMs > 0) this.broker.commitGate = this;
    return () => {
      off();
      if (this.broker.commitGate === this) this.broker.commitGate = null;
    };
  }

  /** messageForward: a QoS 1/2 message about to go to the other nodes makes its publisher's ack wait. */
  private forwarding(msg: Message): boolean {
    if (msg.qos === 0 || msg.topic.charCodeAt(0) === 0x24) return false;
    if (!this.link.up) {
      this.keep(msg);
      return false;
    }
    if (this.timeoutMs === 0) return false;
    const batch = this.current;
    batch.msgs.push(msg);
    wroteTo(batch, this.link.nc);
    // Taken at the end of this turn even if no one waits for an ack (a will, a device that is not acknowledged).
    this.schedule();
    return true;
  }

  /** A message published while NATS is away: kept for when it is back, the oldest dropped past the limit. */
  private keep(msg: Message): void {
    if (this.link.state === 'closed' || this.outageMax === 0) return;
    if (this.outage.length >= this.outageMax) {
      this.outage.shift();
      this.counters.outageDropped++;
      if (this.logLimit.allow('cluster-outage-buffer'))
        this.log.warn('QoS 1/2 message kept for the other nodes dropped: NATS away and --cluster-outage-buffer full', { limit: this.outageMax, droppedTotal: this.counters.outageDropped });
    }
    this.outage.push(msg);
  }

  up(_nc: NatsConnection, first: boolean): void {
    if (first || this.outage.length === 0) return;
    const kept = this.outage;
    this.outage = [];
    const now = Date.now();
    let sent = 0;
    for (const msg of kept) {
      if (msg.expiresAt !== 0 && msg.isExpired(now)) continue;
      const sending = this.resend(msg, true);
      if (sending !== null) this.current.waits.push(sending);
      // Confirmed like any batch (and sent again if NATS or JetStream loses it), though its publishers were acknowledged.
      this.current.msgs.push(msg);
      sent++;
    }
    if (sent > 0) {
      wroteTo(this.current, this.link.nc);
      this.schedule();
    }
    this.counters.outageSent += sent;
    this.log.info('QoS 1/2 messages published while NATS was away sent to the other nodes', { messages: sent });
  }

  down(): void {}

  /** Broker.afterCommit while the cluster runs: after the store's commit, after NATS confirmed. */
  afterCommit<T>(fn: (arg: T, failure: StoreFullError | null) => void, arg: T): void {
    this.current.fns.push(fn);
    this.current.args.push(arg);
    this.schedule();
  }

  /** Makes the current batch's acknowledgements wait for `sending` too (a point-to-point message finding its node). */
  hold(sending: Promise<void>): void {
    this.current.waits.push(sending);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.broker.store.afterCommit(this.startBatch, this);
  }

  /** The store committed (or failed to: `failure`): the batch waits for NATS, then its callbacks run. */
  private take(failure: StoreFullError | null): void {
    const batch = this.current;
    this.current = newBatch();
    this.scheduled = false;
    const before = this.previous;
    this.previous = before.then(() => this.confirm(batch, failure));
  }

  private async confirm(batch: Batch, failure: StoreFullError | null): Promise<void> {
    // A store that refused the writes refuses the publishers: no need to wait for NATS first.
    if (batch.msgs.length > 0 && failure === null) {
      const until = Date.now() + this.timeoutMs;
      let resend = false;
      for (;;) {
        const nc = this.link.nc;
        if (nc !== null && this.link.up) {
          if (resend) {
            for (const msg of batch.msgs) {
              const sending = this.resend(msg, false);
              if (sending !== null) batch.waits.push(sending);
            }
            this.counters.resent++;
          }
          try {
            // Sends that waited for something (a client's place in the registry) go out before the flush.
            if (batch.waits.length > 0) {
              const waits = batch.waits;
              batch.waits = [];
              // Settled, not all: a send that failed is counted where it failed, and must not stop the acks behind it.
              await Promise.allSettled(waits);
            }
            await nc.flush();
            // Answered by the server the messages went to; after a reconnect the PING may have
            // gone to another one while the messages died with the first: send them again.
            const now = serverOf(nc);
            if (!resend && batch.server !== now) {
              batch.server = now;
              resend = true;
              continue;
            }
            // The journal's answers: a write its server died with goes again (the same id: kept once).
            if (this.journal !== null && (await this.journal.confirm(batch.msgs)).length > 0 && Date.now() < until) {
              // JetStream refused or did not answer (a leader election): wait before writing again, not to flood it meanwhile.
              resend = true;
              await new Promise((resolve) => setTimeout(resolve, 250));
              continue;
            }
            this.journal?.forget(batch.msgs);
            this.counters.flushes++;
            break;
          } catch {
            // The server went away with the batch perhaps unread: send it again once connected.
            resend = true;
          }
        } else resend = true;
        if (Date.now() >= until) {
          this.counters.unconfirmed++;
          this.journal?.forget(batch.msgs);
          if (this.logLimit.allow('cluster-ack-gate'))
            this.log.warn('QoS 1/2 messages acknowledged without NATS confirming them (NATS away longer than --cluster-ack-timeout)', { messages: batch.msgs.length, waitedMs: this.timeoutMs });
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    runCommitCallbacks(batch.fns, batch.args, failure, undefined);
  }
}
