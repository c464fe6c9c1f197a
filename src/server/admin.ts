/**
 * Starts the admin listener (--admin-port) with its token, ban list, metrics and dashboard, and
 * presence (--presence), which works without it. Without --admin-token-file the token is
 * generated into the data dir and the listener must stay on loopback.
 */
import { PORT_OFF } from '../config/flags.js';
import { packageVersion } from '../config/version.js';
import { ConfigError } from '../errors.js';
import type { ClusterNodeView } from '../cluster/nodes.js';
import type { Broker } from '../core/broker.js';
import type { GatewayContext } from '../gateway/context.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import { isLoopback } from '../security/index.js';
import { loadNativeUws } from '../transports/uws-loader.js';
import { adminRoutes, type ReloadOutcome } from '../admin/api.js';
import { BanList } from '../admin/bans.js';
import { DashboardAssets } from '../admin/dashboard.js';
import { ApiRouter } from '../admin/http.js';
import { AdminListener } from '../admin/listener.js';
import { AdminMetrics } from '../admin/metrics.js';
import { Presence } from '../admin/presence.js';
import { AdminToken, generateTokenFile, readTokenFile } from '../admin/token.js';
import type { StartOptions } from './options.js';

/** What the server holds of the admin side. */
export interface AdminSide {
  /** The admin listener's port, or null when it is off. */
  readonly port: number | null;
  /** Re-reads --admin-token-file; null when there is no listener. */
  readonly reloadToken: (() => boolean) | null;
  /** Marks the broker ready (every listener bound) or not (stopping). */
  setReady(ready: boolean): void;
  close(): void;
}

export interface AdminSetup {
  readonly options: StartOptions;
  readonly kit: GatewayContext;
  readonly broker: Broker;
  readonly log: Logger;
  readonly logLimit: LogRateLimit;
  readonly reload: (trigger: string) => Promise<ReloadOutcome>;
  /** The cluster's nodes once it runs; null when standalone. */
  readonly clusterNodes: () => ClusterNodeView[] | null;
}

/** Starts presence and the admin listener as configured; throws ConfigError naming the flag. */
export function startAdmin(setup: AdminSetup): AdminSide {
  const { options, kit, broker, log } = setup;
  const presence = options.presence ? new Presence(broker, options.nodeName) : null;
  presence?.start();
  if (options.adminPort === PORT_OFF) {
    return { port: null, reloadToken: null, setReady: () => {}, close: () => presence?.stop() };
  }
  const token = adminToken(options, log);
  const { uws } = loadNativeUws('admin listeners (--admin-port)', '--admin-port');
  const bans = new BanList(options.dataDir, log);
  bans.load();
  kit.bans = bans;
  const version = packageVersion();
  const metrics = new AdminMetrics(broker, kit, { version, nodeName: options.nodeName });
  metrics.start();
  let ready = false;
  const router = new ApiRouter(
    adminRoutes({
      kit,
      broker,
      bans,
      metrics,
      assets: new DashboardAssets(),
      nodeName: options.nodeName,
      version,
      startedAt: Date.now(),
      reload: () => setup.reload('api'),
      ready: () => ready,
      clusterNodes: setup.clusterNodes,
    }),
  );
  let listener: AdminListener;
  try {
    listener = AdminListener.open(uws, { host: options.adminHost, port: options.adminPort, maxBody: options.adminMaxBody, log, logLimit: setup.logLimit }, router, token);
  } catch (err) {
    metrics.stop();
    presence?.stop();
    throw err;
  }
  log.info('listening', { protocol: 'admin', transport: 'http', host: options.adminHost, port: listener.port });
  return {
    port: listener.port,
    reloadToken: () => token.reload(),
    setReady: (value) => {
      ready = value;
    },
    close: () => {
      listener.close();
      metrics.stop();
      presence?.stop();
    },
  };
}

function adminToken(options: StartOptions, log: Logger): AdminToken {
  if (options.adminTokenFile !== undefined) return new AdminToken(readTokenFile(options.adminTokenFile), options.adminTokenFile);
  if (!isLoopback(options.adminHost)) {
    throw new ConfigError(`--admin-host ${options.adminHost} is not a loopback address: give --admin-token-file so that only holders of the token can use the admin API`);
  }
  const { token, path } = generateTokenFile(options.dataDir);
  log.info('admin token generated (no --admin-token-file); junction ctl reads it from the data dir', { file: path });
  return new AdminToken(token, null);
}
