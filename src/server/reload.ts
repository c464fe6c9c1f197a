/**
 * Reload without restart: what SIGHUP and POST /api/v1/reload do. The start options are parsed
 * again (same command line, the --config file read again), then, each on its own so one broken
 * file does not hold back the rest: the log level, TLS certificates, the security files
 * (password file, device keys, JWT key, ACL file, the chain) and the admin token. What changed is
 * logged and applied to connected clients: a client whose credentials were removed or changed
 * is disconnected (MQTT 5: DISCONNECT 0x98); when the ACL changed, every client re-checks its
 * subscriptions and a revoked one stops delivering, offline persistent sessions' stored ones too. Flags that cannot change at run time are
 * named in the answer ("needs a restart"); they keep their old values.
 */
import type { Security } from '../core/auth.js';
import type { GatewayContext } from '../gateway/context.js';
import type { Logger } from '../log/logger.js';
import { reloadSecurity } from '../security/reload.js';
import type { TlsProvider } from '../transports/tls.js';
import { START_FLAGS, type StartOptions } from './options.js';

/** Flags a reload applies; every other flag needs a restart to change. */
const RELOADABLE: ReadonlySet<keyof StartOptions> = new Set<keyof StartOptions>([
  'logLevel',
  'allowAnonymous',
  'authChain',
  'passwordFile',
  'deviceKeysFile',
  'jwtSecret',
  'jwtPublicKey',
  'authHttpUrl',
  'authHttpTimeout',
  'authHttpCacheSize',
  'authHttpCacheTtl',
  'authHttpFailOpen',
  'jwtRequireExp',
  'deviceSignatureWindow',
  'aclFile',
  'config',
]);

/** One part of a reload. */
export interface ReloadPart {
  readonly part: 'options' | 'log-level' | 'tls' | 'security' | 'admin-token';
  readonly ok: boolean;
  /** What changed (empty: nothing), or why it failed. */
  readonly detail: string;
}

/** The answer of a reload. */
export interface ReloadReport {
  /** False when some part failed (its old configuration stays). */
  readonly ok: boolean;
  readonly trigger: string;
  readonly parts: readonly ReloadPart[];
  /** Flags whose new values wait for a restart. */
  readonly needsRestart: readonly string[];
  /** Clients disconnected because their credentials went away. */
  readonly disconnected: number;
  /** Subscriptions dropped because the rules no longer allow them. */
  readonly subscriptionsRevoked: number;
}

/** What a reload works on. */
export interface ReloadTargets {
  readonly log: Logger;
  readonly kit: GatewayContext;
  readonly security: Security;
  readonly tls: TlsProvider | null;
  /** The admin listener's token reload, when there is one: true if the token changed. */
  readonly reloadAdminToken: (() => boolean) | null;
}

export class Reloader {
  private current: StartOptions;
  private running: Promise<ReloadReport> | null = null;

  constructor(
    options: StartOptions,
    /** Parses the start options again (throws ConfigError). */
    private readonly reparse: () => StartOptions,
    private readonly targets: ReloadTargets,
  ) {
    this.current = options;
  }

  /** Runs one reload; a reload asked for while one runs gets that one's answer. */
  reload(trigger: string): Promise<ReloadReport> {
    this.running ??= this.run(trigger).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(trigger: string): Promise<ReloadReport> {
    const { log } = this.targets;
    const parts: ReloadPart[] = [];
    let next: StartOptions;
    try {
      next = this.reparse();
    } catch (err) {
      const report = { ok: false, trigger, parts: [{ part: 'options', ok: false, detail: (err as Error).message } as const], needsRestart: [], disconnected: 0, subscriptionsRevoked: 0 };
      log.error('reload failed: the options do not parse; nothing changed', { trigger, error: err });
      return report;
    }
    const before = this.current;
    const needsRestart = START_FLAGS.filter((def) => !RELOADABLE.has(def.key) && before[def.key] !== next[def.key]).map((def) => `--${def.name}`);

    if (next.logLevel !== before.logLevel) {
      log.setLevel(next.logLevel);
      parts.push({ part: 'log-level', ok: true, detail: `${before.logLevel} -> ${next.logLevel}` });
    }
    parts.push(this.reloadTls());
    let disconnected = 0;
    let subscriptionsRevoked = 0;
    try {
      const security = await reloadSecurity(this.targets.security, before, next, log);
      ({ disconnected, subscriptionsRevoked } = this.applyToClients(security));
      parts.push({ part: 'security', ok: true, detail: security.changes.join('; ') });
      this.current = { ...next, ...pick(before, needsRestart) };
    } catch (err) {
      parts.push({ part: 'security', ok: false, detail: `${(err as Error).message}; the old files stay in use` });
      // The rest applied: remember it, but keep the security flags as they were.
      this.current = { ...before, logLevel: next.logLevel };
    }
    if (this.targets.reloadAdminToken !== null) {
      try {
        parts.push({ part: 'admin-token', ok: true, detail: this.targets.reloadAdminToken() ? 'changed' : '' });
      } catch (err) {
        parts.push({ part: 'admin-token', ok: false, detail: `${(err as Error).message}; the old token stays in use` });
      }
    }
    const ok = parts.every((p) => p.ok);
    const report: ReloadReport = { ok, trigger, parts, needsRestart, disconnected, subscriptionsRevoked };
    const fields = { trigger, changed: parts.filter((p) => p.ok && p.detail !== '').map((p) => `${p.part}: ${p.detail}`), disconnected, subscriptionsRevoked, needsRestart };
    if (ok) log.info('reloaded', fields);
    else log.error('reload incomplete: the parts that failed keep their old configuration', { ...fields, failed: parts.filter((p) => !p.ok).map((p) => `${p.part}: ${p.detail}`) });
    return report;
  }

  private reloadTls(): ReloadPart {
    const tls = this.targets.tls;
    if (tls === null) return { part: 'tls', ok: true, detail: '' };
    try {
      tls.reload();
      this.targets.log.info('TLS certificates reloaded');
      return { part: 'tls', ok: true, detail: 'certificates read again' };
    } catch (err) {
      this.targets.log.error('TLS certificates not reloaded; the old ones stay in use', { error: err });
      return { part: 'tls', ok: false, detail: `${(err as Error).message}; the old certificates stay in use` };
    }
  }

  /** Disconnects clients whose credentials went away; re-checks subscriptions when the rules changed. */
  private applyToClients(security: Awaited<ReturnType<typeof reloadSecurity>>): { disconnected: number; subscriptionsRevoked: number } {
    const { kit, log } = this.targets;
    let disconnected = 0;
    let subscriptionsRevoked = 0;
    // Kicking changes the session table: walk a copy.
    for (const shell of [...kit.onlineConnections()]) {
      const client = shell.client;
      if (client === null) continue;
      const why = security.revoked(client.username, client.provider);
      if (why !== null) {
        log.info('client disconnected by reload', { clientId: client.clientId, username: client.username, protocol: shell.protocolName, reason: why });
        shell.kick('kicked');
        disconnected++;
        continue;
      }
      if (!security.rulesChanged) continue;
      const dropped = client.reauthorize();
      if (dropped.length === 0) continue;
      subscriptionsRevoked += dropped.length;
      log.info('subscriptions revoked by reload', { clientId: client.clientId, username: client.username, protocol: shell.protocolName, filters: dropped });
    }
    if (security.rulesChanged) {
      // Offline persistent sessions too: otherwise they keep queueing what they may no longer read.
      for (const { clientId, username, filters } of kit.reauthorizeOffline()) {
        subscriptionsRevoked += filters.length;
        log.info('subscriptions revoked by reload', { clientId, username, offline: true, filters });
      }
    }
    return { disconnected, subscriptionsRevoked };
  }
}

/** The values of `flags` (--names) from `options`: flags that need a restart keep their old values. */
function pick(options: StartOptions, flags: readonly string[]): Partial<StartOptions> {
  const out: Record<string, unknown> = {};
  for (const def of START_FLAGS) if (flags.includes(`--${def.name}`)) out[def.key] = options[def.key];
  return out as Partial<StartOptions>;
}
