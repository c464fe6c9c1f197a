/**
 * The bridges of a server: reads --bridge-config, opens each bridge's outbox in the store and
 * restores what the previous run left there, listens on the hook seam (`messageForward`: every
 * accepted message of every protocol), connects the backends (an unreachable one is named in
 * the log and retried while its outbox buffers), starts the consume rules, and logs the
 * counters every --bridge-stats-interval seconds.
 */
import type { Broker } from '../core/broker.js';
import type { GatewayContext } from '../gateway/context.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { BridgeBackend, OutRecord } from './backend.js';
import { loadBridgeConfig, type BridgeConfig } from './config.js';
import { Consumer } from './consumer.js';
import type { BridgeOptions } from './flags.js';
import { Forwarder } from './forwarder.js';

/** The outbox table in the store (records keyed by bridge name and sequence). */
const OUTBOX_TABLE = 'bridge-outbox';
const CONNECT_RETRY_MIN_MS = 500;
const CLOSE_WAIT_MS = 2000;

/** One configured bridge: its backend, forwarder and consumer. */
class Bridge {
  private connected = false;
  private closed = false;
  private retryMs = CONNECT_RETRY_MIN_MS;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly config: BridgeConfig,
    readonly backend: BridgeBackend,
    readonly forwarder: Forwarder | null,
    readonly consumer: Consumer | null,
    private readonly retryMaxMs: number,
    private readonly log: Logger,
  ) {}

  /** Connects, or names the failure and keeps trying in the background; resolves after the first attempt. */
  async connect(first = true): Promise<void> {
    this.timer = null;
    if (this.closed) return;
    try {
      await this.backend.connect();
      this.connected = true;
      this.forwarder?.start();
      // Joining consumer groups takes seconds: in the background, not holding the listeners back.
      if (this.consumer !== null) void this.startConsumer(this.consumer);
      this.log.info(first ? 'bridge connected' : 'bridge connected after retrying', { bridge: this.config.name, type: this.config.type, buffered: this.forwarder?.buffered ?? 0 });
    } catch (err) {
      if (this.closed) return;
      if (first) {
        this.log.error('bridge backend unreachable at start; buffering in the outbox and retrying', {
          bridge: this.config.name,
          type: this.config.type,
          error: (err as Error).message,
        });
      }
      this.retryMs = Math.min(this.retryMs * 2, this.retryMaxMs);
      this.timer = setTimeout(() => void this.connect(false), this.retryMs);
    }
  }

  /** Starts the consume rules, retrying with backoff until they run or the bridge closes. */
  private async startConsumer(consumer: Consumer): Promise<void> {
    let waitMs = CONNECT_RETRY_MIN_MS;
    while (!this.closed) {
      try {
        await consumer.start();
        return;
      } catch (err) {
        if (this.closed) return;
        this.log.error('bridge consume rules not started; retrying', { bridge: this.config.name, type: this.config.type, error: (err as Error).message, retryMs: waitMs });
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        waitMs = Math.min(waitMs * 2, this.retryMaxMs);
      }
    }
  }

  /** One log line of this bridge's counters. */
  logStats(): void {
    this.log.info('bridge stats', {
      bridge: this.config.name,
      type: this.config.type,
      connected: this.connected,
      buffered: this.forwarder?.buffered ?? 0,
      forward: this.forwarder?.stats.map((s) => s.snapshot()) ?? [],
      consume: this.consumer?.stats.map((s) => s.snapshot()) ?? [],
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.forwarder?.stop();
    // A backend that is away must not hold the shutdown (5 s in all): what waits stays in the outbox.
    const closed = this.backend.close().catch(() => undefined);
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
  }
}

function logAll(bridges: readonly Bridge[]): void {
  for (const b of bridges) b.logStats();
}

/** The running bridges; stop() before the store closes. */
export interface RunningBridges {
  readonly count: number;
  stop(): Promise<void>;
}

/** Starts the bridges of --bridge-config (none when unset); throws ConfigError for a bad file. */
export async function startBridges(options: BridgeOptions, broker: Broker, kit: GatewayContext, log: Logger, logLimit: LogRateLimit): Promise<RunningBridges> {
  if (options.bridgeConfig === undefined) return { count: 0, stop: async () => undefined };
  // The backends' client libraries (kafkajs, the NATS client) load only when bridges are configured.
  const { BACKENDS } = await import('./registry.js');
  const configs = loadBridgeConfig(options.bridgeConfig, BACKENDS);
  const table = broker.store.table<OutRecord>(OUTBOX_TABLE);
  const usernames = new Map<string, string>();
  const retryMaxMs = options.bridgeRetryMax * 1000;
  const bridges: Bridge[] = [];
  const unhooks: Array<() => void> = [];
  for (const config of configs) {
    const bridgeLog = log.child({ component: 'bridge' });
    const backend = config.module.create(config.options, { bridge: config.name, clientId: config.clientId, log: bridgeLog, batchSize: config.batchSize });
    const forwarder =
      config.forward.length === 0
        ? null
        : new Forwarder(
            config,
            backend,
            table,
            { outboxMax: options.bridgeOutboxMax, qos0Buffer: options.bridgeQos0Buffer, retryMaxMs },
            (clientId) => usernames.get(clientId) ?? '',
            bridgeLog,
            logLimit,
          );
    const consumer =
      config.consume.length === 0
        ? null
        : new Consumer(
            config,
            backend,
            {
              admit: (owner) => kit.admitInternal(config.clientId, config.username, `bridge/${config.type}`, owner),
              // A store that could not keep the batch (--max-store-size, a full disk) rejects: the
              // backend does not acknowledge it and delivers it again later.
              committed: () => new Promise((resolve, reject) => kit.afterCommit((_: undefined, failure) => (failure === null ? resolve() : reject(failure)), undefined)),
            },
            bridgeLog,
            logLimit,
          );
    const restored = forwarder?.restore() ?? 0;
    if (restored > 0) log.info('bridge outbox restored', { bridge: config.name, records: restored });
    bridges.push(new Bridge(config, backend, forwarder, consumer, retryMaxMs, bridgeLog));
  }
  const forwarders = bridges.flatMap((b) => (b.forwarder === null ? [] : [b.forwarder]));
  if (forwarders.length > 0) {
    unhooks.push(
      broker.hooks.on('messageForward', (msg) => {
        let stored = false;
        for (let i = 0; i < forwarders.length; i++) if (forwarders[i]!.offer(msg)) stored = true;
        return stored;
      }),
    );
  }
  // Usernames for templates and envelopes, kept only while some rule asks for them.
  if (configs.some((c) => c.forward.some((r) => r.payload === 'json' || r.to.usesUsername || (r.key?.usesUsername ?? false)))) {
    unhooks.push(broker.hooks.on('clientConnected', (c) => void (c.username !== null && usernames.set(c.clientId, c.username))));
    unhooks.push(broker.hooks.on('clientDisconnected', (c) => void usernames.delete(c.clientId)));
  }
  await Promise.all(bridges.map((b) => b.connect()));
  const timer = options.bridgeStatsInterval > 0 ? setInterval(logAll, options.bridgeStatsInterval * 1000, bridges) : null;
  timer?.unref();
  return {
    count: bridges.length,
    async stop() {
      if (timer !== null) clearInterval(timer);
      for (const off of unhooks) off();
      for (const b of bridges) b.logStats();
      await Promise.all(bridges.map((b) => b.close()));
    },
  };
}
