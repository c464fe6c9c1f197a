/**
 * Cloud-style device identity (as hosted MQTT services do it, ../shared/PROTOCOLS.md), with the
 * secrets in a JSON keys file (--device-keys-file):
 *
 *   {
 *     "instanceId": "mqtt-prod",                       optional: usernames must then name it
 *     "accessKeys": { "AK1": "secret" },
 *     "deviceCredentials": { "CK1": { "secret": "s2", "clientId": "GID_car@@@car-7" } },
 *     "tokens": { "tok-abc": { "accessKey": "AK1", "actions": "RW",
 *                              "topics": ["fleet/#"], "expiresAt": "2030-01-01T00:00:00Z" } }
 *   }
 *
 * Usernames: `Signature|AccessKeyId|InstanceId` with password `T:S`, T the time of signing in ms
 * since the epoch and S = Base64(HMAC-SHA1(secret, "T:clientId")), refused when T is further than
 * --device-signature-window from the server's clock (a captured password stops working; the
 * former password, Base64(HMAC-SHA1(secret, clientId)), worked forever and is refused with a
 * message naming the new form); `DeviceCredential|CredentialKey|InstanceId` the same with the
 * device's own secret (and client id when the credential names one); `Token|AccessKeyId|InstanceId` with password `R|tok|W|tok` or
 * `RW|tok`: R tokens give the topics to subscribe, W tokens the topics to publish, and nothing else.
 * The identity used afterwards (ACL file `user`, events) is the AccessKeyId or credential key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { validateTopicFilter } from '../core/topic.js';
import type { ConnectInfo, TopicGrants } from '../core/auth.js';
import { IGNORE, NOT_AUTHORIZED, badCredentials, credentialDigest, type AuthProvider, type ProviderDecision } from './provider.js';

export interface DeviceCredential {
  readonly secret: string;
  /** When set, only this client id may use the credential. */
  readonly clientId: string | null;
}

export interface DeviceToken {
  readonly accessKey: string;
  readonly read: boolean;
  readonly write: boolean;
  readonly topics: readonly string[];
  /** ms since the epoch; 0 = never */
  readonly expiresAt: number;
}

/** The parsed keys file. */
export interface DeviceKeys {
  readonly instanceId: string | null;
  readonly accessKeys: ReadonlyMap<string, string>;
  readonly credentials: ReadonlyMap<string, DeviceCredential>;
  readonly tokens: ReadonlyMap<string, DeviceToken>;
}

/** Parses keys-file JSON; throws ConfigError naming the entry that is wrong. */
export function parseDeviceKeys(text: string, source = 'device keys file'): DeviceKeys {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  const root = asObject(data, source);
  const instanceId = root['instanceId'];
  if (instanceId !== undefined && (typeof instanceId !== 'string' || instanceId === '')) throw new ConfigError(`${source}: "instanceId" must be a non-empty string`);
  const accessKeys = new Map<string, string>();
  for (const [id, secret] of Object.entries(asObject(root['accessKeys'] ?? {}, `${source}: "accessKeys"`))) {
    if (typeof secret !== 'string' || secret === '') throw new ConfigError(`${source}: access key "${id}" needs a non-empty secret string`);
    accessKeys.set(id, secret);
  }
  const credentials = new Map<string, DeviceCredential>();
  for (const [id, value] of Object.entries(asObject(root['deviceCredentials'] ?? {}, `${source}: "deviceCredentials"`))) {
    const entry = asObject(value, `${source}: device credential "${id}"`);
    const secret = entry['secret'];
    const clientId = entry['clientId'];
    if (typeof secret !== 'string' || secret === '') throw new ConfigError(`${source}: device credential "${id}" needs a non-empty "secret"`);
    if (clientId !== undefined && typeof clientId !== 'string') throw new ConfigError(`${source}: device credential "${id}": "clientId" must be a string`);
    credentials.set(id, { secret, clientId: clientId ?? null });
  }
  const tokens = new Map<string, DeviceToken>();
  for (const [token, value] of Object.entries(asObject(root['tokens'] ?? {}, `${source}: "tokens"`))) {
    tokens.set(token, parseToken(asObject(value, `${source}: a token`), accessKeys, `${source}: token for access key "${String((value as { accessKey?: unknown }).accessKey)}"`));
  }
  return { instanceId: typeof instanceId === 'string' ? instanceId : null, accessKeys, credentials, tokens };
}

function parseToken(entry: Record<string, unknown>, accessKeys: ReadonlyMap<string, string>, where: string): DeviceToken {
  const accessKey = entry['accessKey'];
  if (typeof accessKey !== 'string' || !accessKeys.has(accessKey)) throw new ConfigError(`${where}: "accessKey" must name one of "accessKeys"`);
  const actions = entry['actions'] ?? 'RW';
  if (actions !== 'R' && actions !== 'W' && actions !== 'RW') throw new ConfigError(`${where}: "actions" must be R, W or RW`);
  const topics = entry['topics'];
  if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t) => typeof t === 'string' && validateTopicFilter(t) === null)) {
    throw new ConfigError(`${where}: "topics" must be a non-empty list of valid topic filters`);
  }
  let expiresAt = 0;
  const expires = entry['expiresAt'];
  if (expires !== undefined) {
    expiresAt = typeof expires === 'number' ? expires * 1000 : typeof expires === 'string' ? Date.parse(expires) : NaN;
    if (!Number.isFinite(expiresAt)) throw new ConfigError(`${where}: "expiresAt" must be seconds since the epoch or an ISO date`);
  }
  return { accessKey, read: actions.includes('R'), write: actions.includes('W'), topics: topics as string[], expiresAt };
}

function asObject(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${where} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** Base64(HMAC-SHA1(secret, text)). */
export function hmacSha1(secret: string, text: string): string {
  return createHmac('sha1', secret).update(text, 'utf8').digest('base64');
}

/** The password of a signature or device-credential login made at `timestampMs`: `T:Base64(HMAC-SHA1(secret, "T:clientId"))`. */
export function deviceSignature(secret: string, clientId: string, timestampMs: number = Date.now()): string {
  const t = String(Math.floor(timestampMs));
  return `${t}:${hmacSha1(secret, `${t}:${clientId}`)}`;
}

/** Said (in the log) to a device still sending the signature without a timestamp. */
const UNTIMED = 'signature without a timestamp (the old form, which could be replayed forever): the password must be T:S, T the time in ms since the epoch, S = Base64(HMAC-SHA1(secret, T:clientId))';

function sameText(a: string, b: Buffer): boolean {
  const x = Buffer.from(a, 'utf8');
  return x.length === b.length && timingSafeEqual(x, b);
}

/** Signature, DeviceCredential and Token logins against a keys file. */
export class DeviceKeysProvider implements AuthProvider {
  readonly name = 'device-keys';

  constructor(
    private readonly keys: DeviceKeys,
    private readonly now: () => number = Date.now,
    /** --device-signature-window in ms */
    private readonly windowMs = 300_000,
  ) {}

  /** Reads the file named by --device-keys-file; signatures must be within `windowSeconds` of the clock. */
  static load(path: string, windowSeconds = 300): DeviceKeysProvider {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read --device-keys-file ${path}: ${(err as Error).message}`);
    }
    return new DeviceKeysProvider(parseDeviceKeys(text, path), Date.now, windowSeconds * 1000);
  }

  /** Each identity (access key or credential key) with a digest of its secret and, for an access key, its tokens. */
  credentials(): ReadonlyMap<string, string> {
    const parts = new Map<string, string[]>();
    const add = (id: string, text: string): void => {
      const list = parts.get(id);
      if (list === undefined) parts.set(id, [text]);
      else list.push(text);
    };
    for (const [id, secret] of this.keys.accessKeys) add(id, `access:${secret}`);
    for (const [id, c] of this.keys.credentials) add(id, `credential:${c.secret}:${c.clientId ?? ''}`);
    for (const [token, t] of this.keys.tokens) add(t.accessKey, `token:${token}:${JSON.stringify(t)}`);
    const out = new Map<string, string>();
    for (const [id, list] of parts) out.set(id, credentialDigest(...list.sort()));
    return out;
  }

  authenticate(info: ConnectInfo): ProviderDecision {
    const parts = info.username?.split('|');
    if (parts === undefined || parts.length !== 3) return IGNORE;
    const [mode, keyId, instance] = parts as [string, string, string];
    if (mode !== 'Signature' && mode !== 'DeviceCredential' && mode !== 'Token') return IGNORE;
    if (this.keys.instanceId !== null && instance !== this.keys.instanceId) {
      return { outcome: 'deny', reason: NOT_AUTHORIZED, detail: `unknown instance "${instance}"` };
    }
    if (info.password === null) return badCredentials('no password given');
    if (mode === 'Signature') {
      const secret = this.keys.accessKeys.get(keyId);
      if (secret === undefined) return badCredentials('unknown access key');
      return this.checkSignature(secret, info.clientId, info.password, keyId);
    }
    if (mode === 'DeviceCredential') {
      const credential = this.keys.credentials.get(keyId);
      if (credential === undefined) return badCredentials('unknown device credential');
      if (credential.clientId !== null && credential.clientId !== info.clientId) {
        return { outcome: 'deny', reason: NOT_AUTHORIZED, detail: 'device credential belongs to another client id' };
      }
      return this.checkSignature(credential.secret, info.clientId, info.password, keyId);
    }
    return this.tokenLogin(keyId, info.password.toString('utf8'));
  }

  /** A timed signature `T:S` of the client id by `secret`, T within the window; allows `identity`. */
  private checkSignature(secret: string, clientId: string, password: Buffer, identity: string): ProviderDecision {
    const colon = password.indexOf(0x3a);
    if (colon === -1) return badCredentials(UNTIMED);
    const t = password.toString('latin1', 0, colon);
    if (!/^[0-9]{1,16}$/.test(t)) return badCredentials('the signature timestamp T (before ":") must be the time in ms since the epoch');
    const skew = Math.abs(this.now() - Number(t));
    if (skew > this.windowMs) {
      return badCredentials(`the signature was made ${Math.round(skew / 1000)} s away from the server clock (--device-signature-window ${this.windowMs / 1000} s): sign at each connect`);
    }
    return sameText(hmacSha1(secret, `${t}:${clientId}`), password.subarray(colon + 1)) ? { outcome: 'allow', username: identity } : badCredentials('wrong signature');
  }

  private tokenLogin(accessKey: string, password: string): ProviderDecision {
    if (!this.keys.accessKeys.has(accessKey)) return badCredentials('unknown access key');
    const fields = password.split('|');
    if (fields.length < 2 || fields.length % 2 !== 0) return badCredentials('token password must be R|token|W|token or RW|token');
    const publish: string[] = [];
    const subscribe: string[] = [];
    const now = this.now();
    let expiresAt = 0;
    for (let i = 0; i < fields.length; i += 2) {
      const label = fields[i]!;
      const token = this.keys.tokens.get(fields[i + 1]!);
      if (label !== 'R' && label !== 'W' && label !== 'RW') return badCredentials(`unknown token permission "${label}"`);
      if (token === undefined || token.accessKey !== accessKey) return badCredentials('unknown token');
      if (token.expiresAt !== 0 && token.expiresAt <= now) return badCredentials('token expired');
      if (token.expiresAt !== 0 && (expiresAt === 0 || token.expiresAt < expiresAt)) expiresAt = token.expiresAt;
      const wantsRead = label.includes('R');
      const wantsWrite = label.includes('W');
      if ((wantsRead && !token.read) || (wantsWrite && !token.write)) return { outcome: 'deny', reason: NOT_AUTHORIZED, detail: `token does not grant ${label}` };
      if (wantsRead) subscribe.push(...token.topics);
      if (wantsWrite) publish.push(...token.topics);
    }
    const grants: TopicGrants = { publish, subscribe };
    // The first token to expire ends the connection then.
    return expiresAt === 0 ? { outcome: 'allow', username: accessKey, grants } : { outcome: 'allow', username: accessKey, grants, expiresAt };
  }
}
