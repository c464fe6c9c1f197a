/**
 * The admin listener on uWebSockets.js's HTTP side: one App, one catch-all handler that reads
 * the request's headers at once (as uWS requires), finds the route and checks the bearer token
 * unless the route is open, and only then reads the body (up to --admin-max-body), so a caller
 * without the token never gets a byte buffered; then it runs the route and writes its reply
 * corked. An unexpected error is a 500 with a generic message (the detail goes to the log only).
 */
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import { listenFailure } from '../transports/listen.js';
import type { Uws } from '../transports/uws-loader.js';
import { ApiError, type ApiReply, type ApiRequest, type ApiRoute, type ApiRouter } from './http.js';
import type { AdminToken } from './token.js';

export interface AdminListenOptions {
  readonly host: string;
  readonly port: number;
  readonly maxBody: number;
  readonly log: Logger;
  readonly logLimit: LogRateLimit;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: '200 OK',
  201: '201 Created',
  202: '202 Accepted',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

/** Methods whose body is read. */
const WITH_BODY: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A request being read; its body arrives in chunks after the handler returned. */
interface Pending {
  aborted: boolean;
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly authorization: string;
  readonly address: string;
}

/** The bound admin listener. */
export class AdminListener {
  readonly port: number;
  private listenSocket: us_listen_socket | null;

  private constructor(
    private readonly uws: Uws,
    socket: us_listen_socket,
  ) {
    this.listenSocket = socket;
    this.port = uws.us_socket_local_port(socket as never);
  }

  /** Binds the App; throws ConfigError naming --admin-port when the port cannot be bound. */
  static open(uws: Uws, options: AdminListenOptions, router: ApiRouter, token: AdminToken): AdminListener {
    const app: TemplatedApp = uws.App();
    const handler = new AdminHandler(router, token, options);
    app.any('/*', (res, req) => handler.handle(res, req));
    let bound: us_listen_socket | false = false;
    app.listen(options.host, options.port, (socket) => {
      bound = socket;
    });
    if (bound === false) throw listenFailure('--admin-port', options.host, options.port, 'the port is in use, or the address is not available');
    return new AdminListener(uws, bound);
  }

  /** Stops accepting. */
  close(): void {
    if (this.listenSocket === null) return;
    this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
  }
}

class AdminHandler {
  constructor(
    private readonly router: ApiRouter,
    private readonly token: AdminToken,
    private readonly options: AdminListenOptions,
  ) {}

  handle(res: HttpResponse, req: HttpRequest): void {
    const pending: Pending = {
      aborted: false,
      method: req.getMethod().toUpperCase(),
      path: req.getUrl(),
      query: req.getQuery() ?? '',
      authorization: req.getHeader('authorization'),
      address: Buffer.from(res.getRemoteAddressAsText()).toString(),
    };
    res.onAborted(() => {
      pending.aborted = true;
    });
    const found = this.router.match(pending.method, pending.path);
    const hasBody = WITH_BODY.has(pending.method);
    if (found.route === null) {
      const error =
        found.allowed.length === 0
          ? new ApiError(404, 'NOT_FOUND', `no such path: ${pending.path}`)
          : new ApiError(405, 'METHOD_NOT_ALLOWED', `${pending.method} is not allowed on ${pending.path} (allowed: ${found.allowed.join(', ')})`);
      this.reply(res, pending, errorReply(error), hasBody);
      return;
    }
    if (found.route.open !== true && !this.token.accepts(pending.authorization)) {
      if (this.options.logLimit.allow(`admin-auth:${pending.address}`)) {
        this.options.log.warn('admin request refused: missing or wrong bearer token', { address: pending.address, method: pending.method, path: pending.path });
      }
      // An unread body cannot stay on a kept-alive connection: close it after the answer.
      this.reply(res, pending, errorReply(new ApiError(401, 'UNAUTHORIZED', 'send Authorization: Bearer <token> with the token of --admin-token-file')), hasBody);
      return;
    }
    const route = found.route;
    const params = found.params;
    if (!hasBody) {
      this.run(res, pending, route, params, null);
      return;
    }
    const declared = Number(req.getHeader('content-length') || '0');
    const max = this.options.maxBody;
    if (declared > max) {
      this.reply(res, pending, errorReply(new ApiError(413, 'BODY_TOO_LARGE', `the body is ${declared} bytes; the limit is ${max} (--admin-max-body)`)), true);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (pending.aborted || size > max) return;
      size += chunk.byteLength;
      if (size > max) {
        this.reply(res, pending, errorReply(new ApiError(413, 'BODY_TOO_LARGE', `the body is over ${max} bytes (--admin-max-body)`)), true);
        return;
      }
      // uWS reuses the chunk's memory after this call: copy it (slice), then wrap the copy.
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) this.run(res, pending, route, params, size === 0 ? null : Buffer.concat(chunks, size));
    });
  }

  private run(res: HttpResponse, pending: Pending, route: ApiRoute, params: Record<string, string>, body: Buffer | null): void {
    const request: ApiRequest = { method: pending.method, path: pending.path, params, query: new URLSearchParams(pending.query), body };
    let answer: ApiReply | Promise<ApiReply>;
    try {
      answer = route.handler(request);
    } catch (err) {
      this.reply(res, pending, this.failure(err, pending), false);
      return;
    }
    if (!(answer instanceof Promise)) {
      this.reply(res, pending, answer, false);
      return;
    }
    answer.then(
      (reply) => this.reply(res, pending, reply, false),
      (err: unknown) => this.reply(res, pending, this.failure(err, pending), false),
    );
  }

  private failure(err: unknown, pending: Pending): ApiReply {
    if (err instanceof ApiError) return errorReply(err);
    this.options.log.error('admin request failed', { method: pending.method, path: pending.path, error: err });
    return errorReply(new ApiError(500, 'INTERNAL', 'the request failed; the broker log says why'));
  }

  private reply(res: HttpResponse, pending: Pending, reply: ApiReply, close: boolean): void {
    if (pending.aborted) return;
    pending.aborted = true;
    const isJson = 'json' in reply;
    const body = isJson ? (reply.status === 204 ? '' : JSON.stringify(reply.json)) : reply.text;
    const contentType = isJson ? 'application/json; charset=utf-8' : reply.contentType;
    res.cork(() => {
      res.writeStatus(STATUS_TEXT[reply.status] ?? String(reply.status));
      if (reply.status !== 204) res.writeHeader('Content-Type', contentType);
      res.writeHeader('X-Content-Type-Options', 'nosniff');
      res.writeHeader('Cache-Control', isJson ? 'no-store' : 'no-cache');
      if (reply.status === 401) res.writeHeader('WWW-Authenticate', 'Bearer realm="junction"');
      if (!isJson && contentType.startsWith('text/html')) {
        res.writeHeader('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
        res.writeHeader('X-Frame-Options', 'DENY');
      }
      if (pending.method === 'HEAD') res.endWithoutBody(typeof body === 'string' ? Buffer.byteLength(body) : body.length, close);
      else res.end(body, close);
    });
  }
}

function errorReply(err: ApiError): ApiReply {
  return { status: err.status, json: err.toJSON() };
}
