/**
 * One authentication provider of the chain. Each looks at a connect and allows it, denies it, or
 * passes (`ignore`) when the credentials are not its kind (a username it does not know, a
 * password that is not a JWT), so the next provider decides.
 */
import { createHash } from 'node:crypto';
import type { ConnectInfo, TopicGrants } from '../core/auth.js';

/** A provider's answer. */
export type ProviderDecision =
  | { readonly outcome: 'allow'; readonly username?: string | null; readonly grants?: TopicGrants | null; readonly expiresAt?: number }
  | { readonly outcome: 'deny'; readonly reason: number; readonly detail: string }
  | { readonly outcome: 'ignore' };

export const IGNORE: ProviderDecision = Object.freeze({ outcome: 'ignore' });

/** 0x86: the credentials are wrong (3.1.1 return code 4). */
export const BAD_CREDENTIALS = 0x86;
/** 0x87: the client is known but not allowed (3.1.1 return code 5). */
export const NOT_AUTHORIZED = 0x87;

/** Denies with 0x86 and a reason for the log. */
export function badCredentials(detail: string): ProviderDecision {
  return { outcome: 'deny', reason: BAD_CREDENTIALS, detail };
}

export interface AuthProvider {
  /** Its name in --auth-chain. */
  readonly name: string;
  authenticate(info: ConnectInfo): ProviderDecision | Promise<ProviderDecision>;
  /**
   * For reload: each identity this provider admits, with a digest of its credentials (`*` for
   * a key that vouches for any identity, a JWT key). A client whose entry is gone or changed in
   * the reloaded provider is disconnected. Absent: its clients are never revoked by a reload.
   */
  credentials?(): ReadonlyMap<string, string>;
}

/** A digest of credential text for credentials(): compared, never shown. */
export function credentialDigest(...parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64');
}
