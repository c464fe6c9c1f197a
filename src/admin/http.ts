/**
 * The admin API's request and reply shapes, its errors and its router: routes are matched on
 * the method and the path's segments (`:name` takes one segment, `*name` the rest, slashes and
 * all, for topics). Errors are JSON with a code and a message; a bad parameter names itself.
 */

/** One request as a handler sees it (read in full before the handler runs). */
export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  /** Values of the route's `:name` and `*name` segments, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The body, or null when there was none. */
  readonly body: Buffer | null;
}

/** What a handler answers: JSON, or text of a given type (metrics, the dashboard's files). */
export type ApiReply = { readonly status: number; readonly json: unknown } | { readonly status: number; readonly text: string | Buffer; readonly contentType: string };

export type ApiHandler = (req: ApiRequest) => ApiReply | Promise<ApiReply>;

/** One route: `open` ones need no token (health checks, the dashboard's static files). */
export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly pattern: string;
  readonly handler: ApiHandler;
  readonly open?: boolean;
}

/** An error the API answers with: its HTTP status, a stable code, a message, and the parameter at fault. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly parameter?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The JSON body of the error reply. */
  toJSON(): { code: string; message: string; parameter?: string } {
    return this.parameter === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, parameter: this.parameter };
  }
}

/** 400 naming the parameter: `what` says what it must be. */
export function badParameter(name: string, what: string): ApiError {
  return new ApiError(400, 'BAD_PARAMETER', `${name}: ${what}`, name);
}

/** 404 with what was not found. */
export function notFound(what: string): ApiError {
  return new ApiError(404, 'NOT_FOUND', what);
}

/** A JSON reply. */
export function json(value: unknown, status = 200): ApiReply {
  return { status, json: value };
}

interface CompiledRoute {
  readonly route: ApiRoute;
  readonly segments: readonly string[];
}

/** What the router found for a request. */
export type RouteMatch = { readonly route: ApiRoute; readonly params: Record<string, string> } | { readonly route: null; readonly allowed: readonly string[] };

/** Matches requests to routes by method and path. */
export class ApiRouter {
  private readonly routes: CompiledRoute[] = [];

  constructor(routes: readonly ApiRoute[]) {
    for (const route of routes) this.routes.push({ route, segments: route.pattern.split('/').slice(1) });
  }

  /** The route for `method` and `path` with its parameters, or the methods the path allows (empty: no such path). */
  match(method: string, path: string): RouteMatch {
    const parts = path.split('/').slice(1);
    const allowed: string[] = [];
    for (const { route, segments } of this.routes) {
      const params = matchSegments(segments, parts);
      if (params === null) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
      allowed.push(route.method);
    }
    return { route: null, allowed };
  }
}

/** The parameters when `parts` fit `segments`, else null; a segment that does not decode never fits. */
function matchSegments(segments: readonly string[], parts: readonly string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg.startsWith('*')) {
      if (i >= parts.length) return null;
      const rest = decode(parts.slice(i).join('/'));
      if (rest === null || rest === '') return null;
      params[seg.slice(1)] = rest;
      return params;
    }
    const part = parts[i];
    if (part === undefined) return null;
    if (seg.startsWith(':')) {
      const value = decode(part);
      if (value === null || value === '') return null;
      params[seg.slice(1)] = value;
    } else if (seg !== part) return null;
  }
  return parts.length === segments.length ? params : null;
}

function decode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

// --- reading parameters --------------------------------------------------------------------

/** An integer query parameter in [min, max], or `fallback` when absent. */
export function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw)) throw badParameter(name, `must be an integer between ${min} and ${max} (got "${raw}")`);
  const value = Number(raw);
  if (value < min || value > max) throw badParameter(name, `must be between ${min} and ${max} (got ${raw})`);
  return value;
}

/** A point in time given as ms since the epoch or an ISO 8601 date, or null when absent. */
export function timeParam(query: URLSearchParams, name: string): number | null {
  const raw = query.get(name);
  if (raw === null || raw === '') return null;
  const value = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(value)) throw badParameter(name, `must be ms since the epoch or an ISO 8601 date (got "${raw}")`);
  return value;
}

/** The body as a JSON object; 400 when it is missing or not an object. */
export function jsonBody(req: ApiRequest): Record<string, unknown> {
  if (req.body === null || req.body.length === 0) throw new ApiError(400, 'BAD_REQUEST', 'the request needs a JSON object body');
  let value: unknown;
  try {
    value = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    throw new ApiError(400, 'BAD_REQUEST', `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError(400, 'BAD_REQUEST', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

/** One page of `items` (1-based `page`), with the total the filters matched. */
export interface Page<T> {
  readonly data: T[];
  readonly meta: { readonly page: number; readonly limit: number; readonly count: number };
}

/** Reads ?page and ?limit (default 1 and 100, at most 1000). */
export function pageParams(query: URLSearchParams): { page: number; limit: number } {
  return { page: intParam(query, 'page', 1, 1, 1_000_000), limit: intParam(query, 'limit', 100, 1, 1000) };
}

/** Collects one page from matches visited in order, counting them all. */
export class PageCollector<T> {
  readonly data: T[] = [];
  count = 0;
  private readonly first: number;

  constructor(
    readonly page: number,
    readonly limit: number,
  ) {
    this.first = (page - 1) * limit;
  }

  /** Counts one match; true when the page wants it (call `add` then). */
  wants(): boolean {
    const at = this.count++;
    return at >= this.first && at < this.first + this.limit;
  }

  result(): Page<T> {
    return { data: this.data, meta: { page: this.page, limit: this.limit, count: this.count } };
  }
}
