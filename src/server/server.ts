/**
 * Assembles a running server from the options: store and broker, security, the gateway context
 * every protocol goes through, each protocol's listeners, then the WebSocket listeners with the
 * routes the protocols registered.
 */
import type { StartOptions } from './options.js';
import { ConfigError } from '../errors.js';
import { LogRateLimit, type Logger } from '../log/logger.js';
import { Broker } from '../core/broker.js';
import { SysStats } from '../core/sys-stats.js';
import type { TopicMatcher } from '../core/router.js';
import { TopicTrie } from '../core/topic-trie.js';
import { CachedMatcher } from '../core/cached-matcher.js';
import { loadNative, nativeLoadFailure, nativeModulePath } from '../native/binding.js';
import { NativeTopicTrie } from '../native/topic-trie.js';
import { createStore } from '../store/index.js';
import { createSecurity } from '../security/index.js';
import { WsRoutes } from '../transports/ws-routes.js';
import type { Listener } from '../transports/listen.js';
import { GatewayContext } from '../gateway/context.js';
import { PROTOCOLS } from './protocols.js';
import { startWebSocketListeners } from './websocket.js';
import { createTlsProvider } from './tls-setup.js';
import { RetainedWorkerPool } from '../workers/retained-pool.js';
import { startAdmin, type AdminSide } from './admin.js';
import { checkStartOptions, logNativeChoice, nativeTcpFor, warnAboutDescriptors } from './guardrails.js';
import { Reloader, type ReloadReport } from './reload.js';
import { startBridges, type RunningBridges } from '../bridges/bridges.js';
import { clusterServers } from '../cluster/flags.js';
import type { RunningCluster } from '../cluster/cluster.js';
import { packageVersion } from '../config/version.js';

export interface RunningServer {
  readonly kit: GatewayContext;
  readonly broker: Broker;
  readonly listeners: readonly Listener[];
  /** Stops accepting, says goodbye to clients (MQTT 5: DISCONNECT 0x8B), flushes the store. */
  stop(): Promise<void>;
  /** What SIGHUP and POST /api/v1/reload do (server/reload.ts). */
  reload(trigger: string): Promise<ReloadReport>;
  /** The admin listener's port, or null when --admin-port is off. */
  readonly adminPort: number | null;
}

/**
 * Starts everything; resolves once every listener is bound. `reparse` reads the options again
 * for a reload (the same command line, the config file read anew).
 */
export async function startServer(options: StartOptions, log: Logger, reparse: () => StartOptions = () => options): Promise<RunningServer> {
  checkStartOptions(options);
  const clusterAt = clusterServers(options);
  warnAboutDescriptors(options, log);
  const native = loadNative(options.native);
  // Native trie (less memory, faster on spread topics) behind a JS cache for repeated topics;
  // see docs/PERFORMANCE.md for the measurements behind this choice.
  const matcher = native === null ? new TopicTrie() : new CachedMatcher(new NativeTopicTrie(native));
  const lockFd = native?.lockFd;
  const store = createStore(options.store, options.dataDir, {
    flock: typeof lockFd === 'function' ? (fd) => lockFd.call(native, fd) : null,
    maxStoreSize: options.maxStoreSize,
    check: options.storeCheck,
    log,
  });
  const broker = new Broker(
    {
      maxInflight: options.maxInflight,
      maxQueuedMessages: options.maxQueuedMessages,
      maxQueuedBytes: options.maxQueuedBytes,
      maxSessionExpiry: options.maxSessionExpiry,
      maxRetainedMessages: options.maxRetainedMessages,
      maxRetainedBytes: options.maxRetainedBytes,
    },
    store,
    matcher,
    log,
  );
  logNativeChoice(log, options, native !== null, nativeModulePath(), nativeLoadFailure());
  try {
    await broker.start();
  } catch (err) {
    // Whatever the store says (a path that is a file, no permission, a broken environment), name the flag.
    if (options.store !== 'lmdb') throw err;
    throw new ConfigError(`cannot open the store in --data-dir ${options.dataDir}: ${(err as Error).message}`);
  }
  // Workers read the LMDB file; the memory store has none, so it is served in main-thread slices.
  const retainedPool = options.store === 'lmdb' && options.retainedWorkers > 0 ? new RetainedWorkerPool({ dataDir: options.dataDir, threads: options.retainedWorkers }) : null;
  broker.useBulkRetained({
    threshold: options.retainedBulkThreshold,
    source: retainedPool,
    lowWater: Math.floor(options.maxSocketBuffer / 4),
    batchBytes: 256 * 1024,
  });

  const tls = createTlsProvider(options);
  const logLimit = new LogRateLimit(20);
  const wsRoutes = new WsRoutes();
  const security = await createSecurity(options, log);
  const kit = new GatewayContext({
    broker,
    security,
    options,
    nodeName: options.nodeName,
    log,
    logLimit,
    tls,
    wsRoutes,
    pacing: { ratePerSecond: options.maxAcceptRate, backlog: options.listenBacklog, descriptors: native, log },
    native,
    nativeTcp: nativeTcpFor(options, native, log),
  });

  // The rules may have changed while the server was down: stored subscriptions they refuse go
  // now (about one ACL check per stored subscription; without an ACL file every one is allowed).
  if (options.aclFile !== undefined) {
    for (const { clientId, username, filters } of kit.reauthorizeOffline()) log.info('stored subscriptions dropped at start: the rules no longer allow them', { clientId, username, filters });
  }

  let admin: AdminSide | null = null;
  const reloader = new Reloader(options, reparse, { log, kit, security, tls, reloadAdminToken: () => admin?.reloadToken?.() ?? false });
  const listeners: Listener[] = [];
  let bridges: RunningBridges | null = null;
  let cluster: RunningCluster | null = null;
  try {
    admin = startAdmin({ options, kit, broker, log, logLimit, reload: (trigger) => reloader.reload(trigger), clusterNodes: () => cluster?.nodes() ?? null });
    // Before any listener: no accepted message may pass a forward rule unseen.
    bridges = await startBridges(options, broker, kit, log, logLimit);
    if (clusterAt !== null) {
      // Only a cluster node loads NATS: a standalone one never imports it.
      const { startCluster } = await import('../cluster/cluster.js');
      const newMatcher = (): TopicMatcher => (native === null ? new TopicTrie({ cacheSize: 0 }) : new NativeTopicTrie(native, { cacheSize: 0 }));
      cluster = await startCluster({ options, servers: clusterAt, nodeName: options.nodeName, version: packageVersion(), broker, maxInflight: options.maxInflight, kit, newMatcher, log, logLimit });
    }
    for (const protocol of PROTOCOLS) listeners.push(...(await protocol.start(kit, options)));
    listeners.push(...(await startWebSocketListeners({ options, tls, wsRoutes, wheel: broker.wheel, log, logLimit })));
  } catch (err) {
    for (const l of listeners) l.close();
    admin?.close();
    await cluster?.stop();
    await bridges?.stop();
    await broker.stop();
    await retainedPool?.destroy();
    throw err;
  }
  new SysStats(broker, options.nodeName, options.sysInterval * 1000).start();
  for (const l of listeners) log.info('listening', { protocol: l.protocol, transport: l.transport, host: l.host, port: l.port });
  log.info('ready', { listeners: listeners.length });
  const adminSide = admin as AdminSide;
  adminSide.setReady(true);

  return {
    kit,
    broker,
    listeners,
    adminPort: adminSide.port,
    async stop() {
      adminSide.setReady(false);
      for (const l of listeners) l.close();
      for (const protocol of PROTOCOLS) await protocol.stop?.();
      await cluster?.stop();
      await bridges?.stop();
      await broker.stop();
      await retainedPool?.destroy();
      adminSide.close();
    },
    reload: (trigger) => reloader.reload(trigger),
  };
}
