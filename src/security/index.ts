/**
 * Builds the Security the protocols use from the options. Until providers are configured this
 * is mosquitto 2's policy: anonymous only on loopback or with --allow-anonymous.
 */
import { AnonymousPolicy, ALLOW_ALL, type Security } from '../core/auth.js';
import type { StartOptions } from '../cli/options.js';
import type { Logger } from '../log/logger.js';

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The authenticator chain, authorizer and enhanced-auth methods for these options. */
export async function createSecurity(options: StartOptions, log: Logger): Promise<Security> {
  const allowAnonymous = options.allowAnonymous || isLoopback(options.host);
  if (!allowAnonymous) {
    log.warn('no authentication is configured and --allow-anonymous is not set: every client will be refused', { host: options.host });
  }
  return { authenticator: new AnonymousPolicy(allowAnonymous), authorizer: ALLOW_ALL, methods: new Map() };
}
