/**
 * HTTP hook: POSTs the connect fields as JSON to the operator's URL and follows the answer:
 * 200 with {"result":"allow"} admits (optionally with "publish"/"subscribe" topic lists and a
 * "username" to use: the client's identity, which a CONNECT user name must then equal, else 0x87),
 * {"result":"deny"} refuses, {"result":"ignore"} asks the next provider.
 * Anything else — another status, a bad body, no answer within --auth-http-timeout — refuses
 * (fail-closed) unless --auth-http-fail-open, which passes to the next provider instead.
 * Decisions are cached (bounded, with a TTL) by a hash of the fields, never by the password itself.
 */
import { createHash } from 'node:crypto';
import type { ConnectInfo, TopicGrants } from '../core/auth.js';
import { validateTopicFilter } from '../core/topic.js';
import { LruCache } from './decision-cache.js';
import { IGNORE, NOT_AUTHORIZED, badCredentials, type AuthProvider, type ProviderDecision } from './provider.js';

export interface HttpHookOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly cacheSize: number;
  readonly cacheTtlMs: number;
  readonly failOpen: boolean;
}

/** Reports hook failures (status, timeout) without the request body. */
export type HookFailureLog = (message: string, fields: Record<string, unknown>) => void;

export class HttpHookProvider implements AuthProvider {
  readonly name = 'http';
  private readonly cache: LruCache<ProviderDecision>;

  constructor(
    private readonly options: HttpHookOptions,
    private readonly logFailure: HookFailureLog,
  ) {
    this.cache = new LruCache(options.cacheSize, options.cacheTtlMs);
  }

  authenticate(info: ConnectInfo): ProviderDecision | Promise<ProviderDecision> {
    const key = cacheKey(info);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    return this.ask(info).then((answer) => {
      if (answer !== null) {
        const decision = agreeing(answer, info);
        this.cache.set(key, decision);
        return decision;
      }
      return this.options.failOpen ? IGNORE : { outcome: 'deny', reason: NOT_AUTHORIZED, detail: 'authentication hook unavailable' };
    });
  }

  /** The hook's decision, or null when it failed. */
  private async ask(info: ConnectInfo): Promise<ProviderDecision | null> {
    const body = JSON.stringify({
      clientid: info.clientId,
      username: info.username,
      password: info.password === null ? null : info.password.toString('utf8'),
      peerhost: info.remoteAddress,
      protocol: info.protocol,
      transport: info.transport,
      ...(info.peerIdentity ? { certificate_identity: info.peerIdentity } : {}),
    });
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      this.logFailure('authentication hook did not answer', { url: this.options.url, error: timedOut ? `timeout after ${this.options.timeoutMs} ms` : (err as Error).message });
      return null;
    }
    let text: string;
    try {
      text = await readLimited(response, 65536);
    } catch {
      this.logFailure('authentication hook answer unreadable or too large', { url: this.options.url, status: response.status });
      return null;
    }
    if (response.status !== 200) {
      this.logFailure('authentication hook answered with an error status', { url: this.options.url, status: response.status });
      return null;
    }
    const decision = parseAnswer(text);
    if (decision === null) this.logFailure('authentication hook answer is not {"result":"allow|deny|ignore"}', { url: this.options.url });
    return decision;
  }
}

/** An identity the hook names must be the CONNECT user name when the client sent one, as for a JWT. */
function agreeing(decision: ProviderDecision, info: ConnectInfo): ProviderDecision {
  if (decision.outcome !== 'allow' || decision.username === undefined || decision.username === null) return decision;
  if (info.username === null || info.username === decision.username) return decision;
  return { outcome: 'deny', reason: NOT_AUTHORIZED, detail: `the authentication hook names "${decision.username}", not the user name "${info.username}"` };
}

function cacheKey(info: ConnectInfo): string {
  const h = createHash('sha256');
  for (const part of [info.clientId, info.username ?? '\u0000', info.remoteAddress, info.protocol, info.peerIdentity ?? '']) h.update(part).update('\u0000');
  if (info.password !== null) h.update(info.password);
  return h.digest('base64');
}

async function readLimited(response: Response, limit: number): Promise<string> {
  const length = Number(response.headers.get('content-length') ?? '0');
  if (length > limit) throw new Error('too large');
  const text = await response.text();
  if (text.length > limit) throw new Error('too large');
  return text;
}

/** Turns the hook's JSON into a decision; null when it is not a valid answer. */
export function parseAnswer(text: string): ProviderDecision | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const answer = data as Record<string, unknown>;
  switch (answer['result']) {
    case 'deny':
      return badCredentials('refused by the authentication hook');
    case 'ignore':
      return IGNORE;
    case 'allow': {
      const publish = answer['publish'];
      const subscribe = answer['subscribe'];
      let grants: TopicGrants | null = null;
      if (publish !== undefined || subscribe !== undefined) {
        const p = filters(publish);
        const s = filters(subscribe);
        if (p === null || s === null) return null;
        grants = { publish: p, subscribe: s };
      }
      const username = answer['username'];
      if (username !== undefined && typeof username !== 'string') return null;
      return username === undefined ? { outcome: 'allow', grants } : { outcome: 'allow', username, grants };
    }
    default:
      return null;
  }
}

function filters(value: unknown): string[] | null {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((t) => typeof t === 'string' && validateTopicFilter(t) === null)) return null;
  return value as string[];
}
