/**
 * Builds the Security the protocols use from the options: the provider chain in --auth-chain
 * order, the authorizer (token/JWT topic lists first, then the ACL file), and the policy for
 * limits and point-to-point. Without providers the policy is mosquitto 2's: anonymous only on
 * loopback or with --allow-anonymous; with any provider, only with --allow-anonymous. An
 * explicit --no-allow-anonymous refuses anonymous clients everywhere (mosquitto's
 * `allow_anonymous false`).
 */
import { AnonymousPolicy, type Authenticator, type Authorizer, type Security } from '../core/auth.js';
import type { SecurityOptions } from './flags.js';
import { ConfigError } from '../errors.js';
import { LogRateLimit, type Logger } from '../log/logger.js';
import { AclAuthorizer, GrantsFirstAuthorizer, OPEN_AUTHORIZER, loadAclFile } from './acl-file.js';
import { certificateProvider } from './certificate.js';
import { AuthChain, PROVIDER_NAMES } from './chain.js';
import { DeviceKeysProvider } from './device-signature.js';
import { HttpHookProvider } from './http-hook.js';
import { JwtProvider } from './jwt.js';
import { PasswordFileProvider } from './password-file.js';
import { GatewayPolicy } from './policy.js';
import type { AuthProvider } from './provider.js';

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The authenticator chain, authorizer, policy and enhanced-auth methods for these options. */
export async function createSecurity(options: SecurityOptions & { readonly host: string }, log: Logger): Promise<Security> {
  const { authenticator, admitsAnonymous, providers } = await buildAuthentication(options, log);
  const table = options.aclFile === undefined ? null : loadAclFile(options.aclFile);
  if (table !== null && table.users.size > 0 && providers.length === 0 && admitsAnonymous) {
    // `user` lines are keyed by the name a client gives; with nothing checking it, anyone can give it.
    log.warn('the ACL file has user lines but no provider authenticates users: a client without a certificate gets the rights of whatever user name it claims', {
      aclFile: options.aclFile,
      users: table.users.size,
      fix: 'add --password-file, --device-keys-file, --jwt-secret/--jwt-public-key or --auth-http-url, or --no-allow-anonymous with client certificates',
    });
  }
  const authorizer = new GrantsFirstAuthorizer(table === null ? OPEN_AUTHORIZER : new AclAuthorizer(table));
  const p2p = options.p2pParent === undefined ? null : checkedP2pParent(options.p2pParent);
  return {
    authenticator,
    authorizer,
    methods: new Map(),
    admitsAnonymous,
    providers,
    policy: new GatewayPolicy(options, authorizer, p2p),
  };
}

/** The authentication part of a Security: built at start, and again by a reload. */
export interface Authentication {
  readonly authenticator: Authenticator;
  readonly admitsAnonymous: boolean;
  /** Names of the providers the chain asks, in order. */
  readonly providers: readonly string[];
}

/** Reads every configured provider's files and builds the chain in --auth-chain order; throws ConfigError naming the flag. */
export async function buildAuthentication(options: SecurityOptions & { readonly host: string }, log: Logger): Promise<Authentication> {
  const configured = await configuredProviders(options, log, new LogRateLimit(5));
  const order = parseChain(options.authChain);
  const providers = order.flatMap((name) => (name === 'certificate' ? [certificateProvider] : configured.filter((p) => p.name === name)));
  for (const p of configured) {
    if (!order.includes(p.name as (typeof PROVIDER_NAMES)[number])) log.warn('configured provider is not in --auth-chain and will not be asked', { provider: p.name });
  }

  let authenticator: Authenticator;
  let admitsAnonymous = options.allowAnonymous === true;
  if (configured.length === 0) {
    // Given (flag or config file) it decides; not given, the loopback default does.
    const allowAnonymous = options.allowAnonymous ?? isLoopback(options.host);
    admitsAnonymous = allowAnonymous;
    if (!allowAnonymous) {
      const why = options.allowAnonymous === false ? '--no-allow-anonymous is given' : '--allow-anonymous is not set';
      log.warn(`no authentication is configured and ${why}: every client will be refused`, { host: options.host });
    }
    // A client certificate still names the client when nothing else is configured.
    authenticator = order.includes('certificate') ? new AuthChain([certificateProvider], allowAnonymous, true) : new AnonymousPolicy(allowAnonymous);
  } else {
    authenticator = new AuthChain(providers, admitsAnonymous);
    log.info('authentication providers', { chain: providers.map((p) => p.name), allowAnonymous: admitsAnonymous });
  }
  return { authenticator, admitsAnonymous, providers: configured.filter((p) => order.includes(p.name as (typeof PROVIDER_NAMES)[number])).map((p) => p.name) };
}

/** The rules for clients without topic grants: the --acl-file, or everything but $SYS/brokers/ events. */
export function aclRules(options: SecurityOptions): Authorizer {
  return options.aclFile === undefined ? OPEN_AUTHORIZER : new AclAuthorizer(loadAclFile(options.aclFile));
}

async function configuredProviders(options: SecurityOptions, log: Logger, logLimit: LogRateLimit): Promise<AuthProvider[]> {
  const providers: AuthProvider[] = [];
  if (options.passwordFile !== undefined) {
    const p = PasswordFileProvider.load(options.passwordFile);
    if (p.size === 0) log.warn('--password-file has no users', { file: options.passwordFile });
    providers.push(p);
  }
  if (options.deviceKeysFile !== undefined) providers.push(DeviceKeysProvider.load(options.deviceKeysFile, options.deviceSignatureWindow));
  if (options.jwtSecret !== undefined || options.jwtPublicKey !== undefined) {
    if (options.jwtSecret !== undefined && options.jwtPublicKey !== undefined) throw new ConfigError('give either --jwt-secret (HS256) or --jwt-public-key (RS256), not both');
    providers.push(await JwtProvider.create(options.jwtSecret, options.jwtPublicKey, options.jwtRequireExp));
  }
  if (options.authHttpUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(options.authHttpUrl);
    } catch {
      throw new ConfigError(`--auth-http-url must be an http:// or https:// URL (got "${options.authHttpUrl}")`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--auth-http-url must be an http:// or https:// URL (got "${options.authHttpUrl}")`);
    const hook = new HttpHookProvider(
      { url: url.href, timeoutMs: options.authHttpTimeout, cacheSize: options.authHttpCacheSize, cacheTtlMs: options.authHttpCacheTtl * 1000, failOpen: options.authHttpFailOpen },
      (message, fields) => {
        if (logLimit.allow('auth-http')) log.warn(message, fields);
      },
    );
    providers.push(hook);
  }
  return providers;
}

/** Parses --auth-chain; throws ConfigError for an unknown or repeated name. */
function parseChain(text: string): Array<(typeof PROVIDER_NAMES)[number]> {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const seen = new Set<string>();
  for (const name of names) {
    if (!(PROVIDER_NAMES as readonly string[]).includes(name)) throw new ConfigError(`--auth-chain: unknown provider "${name}" (known: ${PROVIDER_NAMES.join(', ')})`);
    if (seen.has(name)) throw new ConfigError(`--auth-chain: "${name}" is listed twice`);
    seen.add(name);
  }
  return names as Array<(typeof PROVIDER_NAMES)[number]>;
}

function checkedP2pParent(parent: string): string {
  if (parent !== '+' && (parent.includes('/') || parent.includes('#') || parent.includes('+'))) {
    throw new ConfigError(`--p2p-parent must be one topic level or + (got "${parent}")`);
  }
  return parent;
}
