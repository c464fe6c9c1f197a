/**
 * The node's connection to NATS (and a second one for shared groups): connects in the background (the node serves its local
 * clients meanwhile), reconnects for ever with a doubling wait (250 ms up to
 * --cluster-reconnect-max, with jitter), logs every change of state, and tells its listeners
 * when the link comes up and goes down. nats.js subscribes again by itself after a reconnect;
 * the listeners redo what it cannot (the retained stream, the shared-group switch).
 */
import { connect, type NatsConnection, type Status } from '@nats-io/transport-node';
import { IngestPacer } from './ingest-pacer.js';
import type { Logger } from '../log/logger.js';

export type LinkState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Who wants to know when the link comes and goes. */
export interface LinkListener {
  /** Connected: the first time (`first`) or again after a loss. */
  up(nc: NatsConnection, first: boolean): void;
  /** The connection to NATS was lost (nats.js is reconnecting). */
  down(): void;
}

const FIRST_WAIT_MS = 250;

export class NatsLink {
  state: LinkState = 'connecting';
  /** The main connection, once made (also while reconnecting): publishes and plain interest, no echo. */
  nc: NatsConnection | null = null;
  /** The connection of the shared groups' queue subscriptions, which must also get this node's own messages. */
  sharedNc: NatsConnection | null = null;
  /** The server connected to, or the last one. */
  server = '';
  /** Times the connection was lost since the start. */
  losses = 0;
  private attempts = 0;
  private lastError = '';
  private retryTimer: NodeJS.Timeout | null = null;
  private wakeUp: (() => void) | null = null;
  private downSince = 0;
  private readonly listeners: LinkListener[] = [];
  private readonly ready: Promise<void>;
  /** What the main connection hands over per turn of the event loop (--cluster-ingest-per-turn). */
  readonly ingest: IngestPacer;
  /** ... and the shared groups' connection. */
  readonly sharedIngest: IngestPacer;

  constructor(
    private readonly servers: readonly string[],
    private readonly name: string,
    private readonly reconnectMaxMs: number,
    ingestPerTurn: number,
    private readonly log: Logger,
  ) {
    this.ingest = new IngestPacer(() => this.nc, ingestPerTurn);
    this.sharedIngest = new IngestPacer(() => this.sharedNc, ingestPerTurn);
    this.ready = this.open();
  }

  /** True while NATS is reachable. */
  get up(): boolean {
    return this.state === 'connected';
  }

  listen(listener: LinkListener): void {
    this.listeners.push(listener);
  }

  private closed(): boolean {
    return this.state === 'closed';
  }

  /** Resolves once connected for the first time (never rejects; close() ends the wait). */
  connected(): Promise<void> {
    return this.ready;
  }

  /** The wait before the next attempt: doubling from 250 ms up to --cluster-reconnect-max, with jitter. */
  private backoff(): number {
    const wait = Math.min(FIRST_WAIT_MS * 2 ** this.attempts, this.reconnectMaxMs);
    this.attempts++;
    return Math.round(wait * (0.8 + Math.random() * 0.4));
  }

  /** One line for the first failed attempt and every tenth after it. */
  private logAttempt(): void {
    if (this.attempts !== 1 && this.attempts % 10 !== 0) return;
    this.log.warn(this.state === 'connecting' ? 'cluster NATS not reachable yet; serving local clients and retrying' : 'cluster NATS still unreachable; retrying', {
      servers: this.servers,
      attempts: this.attempts,
      ...(this.lastError === '' ? {} : { error: this.lastError }),
    });
  }

  /** One connection to the servers, reconnecting for ever with the link's backoff. */
  private connectOne(suffix: string, noEcho: boolean): Promise<NatsConnection> {
    return connect({
      servers: [...this.servers],
      name: this.name + suffix,
      noEcho,
      timeout: 2000,
      maxReconnectAttempts: -1,
      reconnectDelayHandler: () => this.backoff(),
      pingInterval: 5000,
      maxPingOut: 2,
    });
  }

  private async open(): Promise<void> {
    let nc: NatsConnection | null = null;
    let shared: NatsConnection | null = null;
    while (this.state !== 'closed') {
      try {
        // The node never needs its own messages back on the main connection; shared groups
        // (queue subscriptions) do, so they live on a second connection.
        nc = await this.connectOne('', true);
        shared = await this.connectOne(' (shared groups)', false);
        break;
      } catch (err) {
        await nc?.close().catch(() => undefined);
        nc = null;
        if (this.closed()) return;
        this.lastError = (err as Error).message;
        const wait = this.backoff();
        this.logAttempt();
        await new Promise<void>((resolve) => {
          this.retryTimer = setTimeout(resolve, wait);
          this.wakeUp = resolve;
        });
      }
    }
    if (nc === null || shared === null) return;
    if (this.closed()) {
      await nc.close().catch(() => undefined);
      await shared.close().catch(() => undefined);
      return;
    }
    this.nc = nc;
    this.sharedNc = shared;
    this.state = 'connected';
    this.attempts = 0;
    this.lastError = '';
    this.server = nc.getServer();
    this.log.info('cluster NATS connected', { server: this.server, node: this.name });
    for (const l of this.listeners) l.up(nc, true);
    void this.watch(nc);
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) this.onStatus(nc, s);
  }

  private onStatus(nc: NatsConnection, s: Status): void {
    if (this.state === 'closed') return;
    switch (s.type) {
      case 'disconnect':
        if (this.state !== 'connected') return;
        this.state = 'reconnecting';
        this.losses++;
        this.downSince = Date.now();
        this.log.warn('cluster NATS connection lost; serving local clients and reconnecting', { server: s.server });
        for (const l of this.listeners) l.down();
        return;
      case 'reconnecting':
        this.logAttempt();
        return;
      case 'reconnect':
        this.state = 'connected';
        this.attempts = 0;
        this.server = s.server;
        this.log.info('cluster NATS reconnected; interest subscribed again', { server: s.server, downMs: Date.now() - this.downSince });
        for (const l of this.listeners) l.up(nc, false);
        return;
      case 'error':
        this.log.warn('cluster NATS error', { error: s.error.message });
        return;
      default:
        return;
    }
  }

  /** Flushes what is buffered (1 s at most) and closes. */
  async close(): Promise<void> {
    const connections = [this.nc, this.sharedNc].filter((c): c is NatsConnection => c !== null);
    this.state = 'closed';
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.wakeUp?.();
    await Promise.all(
      connections.map(async (nc) => {
        const drained = nc.drain().catch(() => undefined);
        await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
        await nc.close().catch(() => undefined);
      }),
    );
  }
}
