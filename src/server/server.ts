/**
 * Assembles a running server from the options: store and broker, security, events, every
 * gateway's listeners, then the WebSocket listeners with the routes the gateways registered.
 */
import type { StartOptions } from './options.js';
import { Logger, LogRateLimit } from '../log/logger.js';
import { Broker } from '../core/broker.js';
import { SysClientEvents } from '../core/events.js';
import { SysStats } from '../core/sys-stats.js';
import { TopicTrie } from '../core/topic-trie.js';
import { CachedMatcher } from '../core/cached-matcher.js';
import { loadNative, nativeModulePath } from '../native/binding.js';
import { NativeTopicTrie } from '../native/topic-trie.js';
import { scannerFor } from '../native/scanner.js';
import { createStore } from '../store/index.js';
import { createSecurity } from '../security/index.js';
import { WsRoutes } from '../transports/ws-routes.js';
import type { TlsProvider } from '../transports/tls.js';
import { mqttGateway } from '../protocols/mqtt/gateway.js';
import { GATEWAYS } from './gateways.js';
import { startWebSocketListeners } from './websocket.js';
import type { Gateway, Listener, ServerContext } from './context.js';
import { createTlsProvider } from './tls-setup.js';
import { RetainedWorkerPool } from '../workers/retained-pool.js';
import { mqttWireTarget } from '../workers/mqtt-target.js';

export interface RunningServer {
  readonly ctx: ServerContext;
  readonly listeners: readonly Listener[];
  /** Stops accepting, says goodbye to clients (MQTT 5: DISCONNECT 0x8B), flushes the store. */
  stop(): Promise<void>;
  /** Re-reads TLS certificates (SIGHUP); open connections keep theirs. */
  reloadTls(): void;
}

/** Starts everything; resolves once every listener is bound. */
export async function startServer(options: StartOptions, log: Logger): Promise<RunningServer> {
  const native = loadNative(options.native);
  // Native trie (less memory, faster on spread topics) behind a JS cache for repeated topics;
  // see docs/PERFORMANCE.md for the measurements behind this choice.
  const matcher = native === null ? new TopicTrie() : new CachedMatcher(new NativeTopicTrie(native));
  const scan = scannerFor(native);
  const store = createStore(options.store, options.dataDir);
  const broker = new Broker(
    {
      maxInflight: options.maxInflight,
      maxQueuedMessages: options.maxQueuedMessages,
      maxQueuedBytes: options.maxQueuedBytes,
      maxSessionExpiry: options.maxSessionExpiry,
      maxRetainedMessages: options.maxRetainedMessages,
    },
    store,
    matcher,
    log,
  );
  log.info(native === null ? 'native module off: TypeScript frame scanner and topic trie' : 'native module loaded: Rust frame scanner and topic trie', {
    native: options.native,
    ...(native === null ? {} : { path: nativeModulePath() }),
  });
  await broker.start();
  // Workers read the LMDB file; the memory store has none, so it is served in main-thread slices.
  const retainedPool =
    options.store === 'lmdb' && options.retainedWorkers > 0 ? new RetainedWorkerPool({ dataDir: options.dataDir, threads: options.retainedWorkers }) : null;
  broker.useBulkRetained({
    threshold: options.retainedBulkThreshold,
    source: retainedPool,
    targetOf: mqttWireTarget,
    lowWater: Math.floor(options.maxSocketBuffer / 4),
    batchBytes: 256 * 1024,
  });

  const tls: TlsProvider | null = createTlsProvider(options);
  const ctx: ServerContext = {
    broker,
    options,
    log,
    logLimit: new LogRateLimit(20),
    security: await createSecurity(options, log),
    events: new SysClientEvents(broker, options.nodeName),
    wsRoutes: new WsRoutes(),
    tls,
    scan,
    pacing: { ratePerSecond: options.maxAcceptRate, backlog: options.listenBacklog, descriptors: native, log },
  };

  const gateways: Gateway[] = [mqttGateway, ...GATEWAYS];
  const listeners: Listener[] = [];
  try {
    for (const gateway of gateways) listeners.push(...(await gateway.start(ctx)));
    listeners.push(...(await startWebSocketListeners(ctx)));
  } catch (err) {
    for (const l of listeners) l.close();
    await broker.stop(0x8b, 'server shutting down');
    await retainedPool?.destroy();
    throw err;
  }
  new SysStats(broker, options.nodeName, options.sysInterval * 1000).start();
  for (const l of listeners) log.info('listening', { protocol: l.protocol, transport: l.transport, host: l.host, port: l.port });
  log.info('ready', { listeners: listeners.length });

  return {
    ctx,
    listeners,
    async stop() {
      for (const l of listeners) l.close();
      for (const gateway of gateways) await gateway.stop?.();
      await broker.stop(0x8b, 'server shutting down');
      await retainedPool?.destroy();
    },
    reloadTls() {
      if (tls === null) return;
      try {
        tls.reload();
        log.info('TLS certificates reloaded');
      } catch (err) {
        log.error('TLS certificates not reloaded; the old ones stay in use', { error: err });
      }
    },
  };
}
