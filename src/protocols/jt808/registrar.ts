/**
 * Registration (0100 -> 8100) and authentication (0102) of terminals, EMQX's way: through the
 * operator's HTTP endpoints, or by the broker itself. The registry gets a POST of the 0100 body
 * plus the phone and answers `{"code": 0, "authcode": "..."}` (another code is the 8100 result);
 * the authentication endpoint gets `{"code", "phone"}` and answers 200 for yes. Network errors,
 * timeouts and 5xx are retried (1 s apart, doubling). Without endpoints, registration hands out
 * a fresh code when the broker admits anonymous clients, and the authentication chain decides at
 * 0102 (username the phone, password the auth code), as for every other protocol. Auth codes are
 * secrets: never logged.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import type { JsonObject } from './codec/json-fields.js';

/** 8100 result: 0 ok, 1 vehicle registered, 2 no such vehicle, 3 terminal registered, 4 no such terminal. */
export interface Registration {
  readonly result: number;
  /** the code the terminal authenticates with; '' unless result is 0 */
  readonly authCode: string;
}

export interface Registrar {
  /** 'http': the operator's endpoints decide; 'broker': the authentication chain decides at 0102 */
  readonly mode: 'broker' | 'http';
  register(phone: string, body: JsonObject): Registration | Promise<Registration>;
  /** http only: whether the code authenticates the phone (`issued` is the code this connection's registration returned). */
  authenticate?(phone: string, code: string, issued: string | null): Promise<boolean>;
}

/** No endpoints: the broker's own authentication decides; registration is only for anonymous fleets. */
export class BrokerRegistrar implements Registrar {
  readonly mode = 'broker' as const;

  constructor(private readonly anonymous: boolean) {}

  register(): Registration {
    return this.anonymous ? { result: 0, authCode: randomBytes(8).toString('hex') } : { result: 1, authCode: '' };
  }
}

export interface HttpRegistrarOptions {
  registryUrl: string | undefined;
  authUrl: string | undefined;
  timeoutMs: number;
  retries: number;
  /** first pause between attempts; doubles each time */
  retryDelayMs: number;
}

/** Asks the operator's HTTP endpoints. */
export class HttpRegistrar implements Registrar {
  readonly mode = 'http' as const;

  constructor(
    private readonly options: HttpRegistrarOptions,
    private readonly log: Logger,
  ) {}

  async register(phone: string, body: JsonObject): Promise<Registration> {
    const url = this.options.registryUrl;
    if (url === undefined) return { result: 1, authCode: '' };
    const res = await this.post(url, { ...body, phone });
    if (res === null) return { result: 1, authCode: '' };
    if (res.status !== 200) {
      this.log.warn('JT/T 808 registry refused the request', { phone, status: res.status });
      return { result: 1, authCode: '' };
    }
    let answer: unknown;
    try {
      answer = JSON.parse(res.text);
    } catch {
      this.log.warn('JT/T 808 registry answered something that is not JSON', { phone });
      return { result: 1, authCode: '' };
    }
    const obj = typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>) : {};
    const code = obj['code'];
    if (code === 0 && typeof obj['authcode'] === 'string') return { result: 0, authCode: obj['authcode'] };
    if (typeof code === 'number' && Number.isInteger(code) && code >= 1 && code <= 255) return { result: code, authCode: '' };
    this.log.warn('JT/T 808 registry answer lacks "code" (and "authcode" when code is 0)', { phone });
    return { result: 1, authCode: '' };
  }

  async authenticate(phone: string, code: string, issued: string | null): Promise<boolean> {
    if (issued !== null) return code === issued;
    const url = this.options.authUrl;
    if (url === undefined) return false;
    const res = await this.post(url, { code, phone });
    return res !== null && res.status === 200;
  }

  /** POST with retries; null when every attempt failed (network, timeout, 5xx). */
  private async post(url: string, body: JsonObject): Promise<{ status: number; text: string } | null> {
    const { timeoutMs, retries } = this.options;
    let delay = this.options.retryDelayMs;
    for (let attempt = 0; ; attempt++) {
      let failure: string;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        if (res.status < 500) return { status: res.status, text };
        failure = `HTTP ${res.status}`;
      } catch (err) {
        failure = err instanceof Error ? (err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : err.message) : String(err);
      }
      if (attempt >= retries) {
        this.log.warn('JT/T 808 HTTP endpoint failed; terminal refused', { url: redactUrl(url), attempts: attempt + 1, error: failure });
        return null;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay *= 2;
    }
  }
}

/** The URL without credentials or query (which may hold tokens) for logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
