/**
 * HTTP: each batch is one POST of JSON to the bridge's URL,
 *   {"bridge": NAME, "records": [{"to", "key", "headers": {...}, "value": base64, "timestamp"}]}
 * signed, when a `secret` is set, with `X-Junction-Signature: t=MS,sha256=HEX`, the HMAC-SHA256
 * of `MS.BODY` under the secret (the receiver recomputes it, and rejects old timestamps).
 * A 2xx answer acknowledges the batch; 408, 429, 5xx, a refused connection or a timeout are
 * retried with backoff by the bridge runtime; any other status refuses the batch for good (the
 * runtime then finds the record by sending one at a time). HTTP only forwards.
 */
import { createHmac } from 'node:crypto';
import { RejectedError, type BackendContext, type BackendModule, type BridgeBackend, type OptionReader, type OutRecord } from '../backend.js';

export interface HttpOptions {
  readonly url: URL;
  /** HMAC key of the signature header; null = unsigned */
  readonly secret: string | null;
  /** ms a request may take */
  readonly timeout: number;
}

/** Statuses worth retrying: the receiver is busy or away, not refusing. */
const RETRY_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

export const HTTP_BACKEND: BackendModule<HttpOptions> = {
  bridgeKeys: ['url', 'secret', 'timeout'],
  consumeKeys: [],
  consumes: false,
  parse(read: OptionReader): HttpOptions {
    const text = read.string('url');
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new Error(`${read.where}.url: "${text}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${read.where}.url: "${text}" must be http:// or https://`);
    return { url, secret: read.optionalString('secret') ?? null, timeout: read.int('timeout', 100, 600_000, 10_000) };
  },
  create(options: HttpOptions, context: BackendContext): BridgeBackend {
    return new HttpBackend(options, context);
  },
};

class HttpBackend implements BridgeBackend {
  constructor(
    private readonly options: HttpOptions,
    private readonly context: BackendContext,
  ) {}

  /** Nothing to open: a request per batch. An unreachable URL shows on the first send. */
  async connect(): Promise<void> {}

  async send(records: readonly OutRecord[]): Promise<void> {
    const body = JSON.stringify({
      bridge: this.context.bridge,
      records: records.map((r) => ({
        to: r.to,
        key: r.key,
        headers: r.headers === null ? {} : Object.fromEntries(r.headers),
        value: r.value.toString('base64'),
        timestamp: r.at,
      })),
    });
    const head: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'junction-bridge' };
    if (this.options.secret !== null) head['x-junction-signature'] = signature(this.options.secret, Date.now(), body);
    let response: Response;
    try {
      response = await fetch(this.options.url, { method: 'POST', headers: head, body, signal: AbortSignal.timeout(this.options.timeout) });
    } catch (err) {
      const e = err as Error & { cause?: Error };
      throw new Error(`HTTP ${this.options.url.origin}: ${e.name === 'TimeoutError' ? `no answer within ${this.options.timeout} ms` : (e.cause?.message ?? e.message)}`);
    }
    // The body is not used; read it so the connection can be reused.
    const text = await response.text().catch(() => '');
    if (response.ok) return;
    const detail = `HTTP ${response.status} from ${this.options.url.origin}${text === '' ? '' : `: ${text.slice(0, 200)}`}`;
    if (RETRY_STATUSES.has(response.status)) throw new Error(detail);
    throw new RejectedError(detail);
  }

  async consume(): Promise<void> {
    throw new Error('an HTTP bridge only forwards');
  }

  async close(): Promise<void> {}
}

/** The signature header value of `body` sent at `t` (ms). */
export function signature(secret: string, t: number, body: string): string {
  return `t=${t},sha256=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}
