/**
 * Registration (0100 -> 8100) and authentication (0102) of a terminal. With the operator's HTTP
 * endpoints they decide (reading pauses while a request is out); without them the broker's
 * authentication chain decides at 0102, as for every protocol (username the phone, password the
 * auth code). Either way admission (limits, identity, ACL) comes last, through the gateway.
 */
import { encodeGbk } from '../codec/bytes.js';
import type { Jt808Header } from '../codec/header.js';
import type { JsonObject } from '../codec/json-fields.js';
import { MsgId, Result } from '../codec/message-ids.js';
import { Phase } from '../../../gateway/shell.js';
import type { Jt808Connection } from '../connection.js';
import type { Registration } from '../registrar.js';

const ACCEPTED = Object.freeze({ ok: true, reason: 0 });

/** 0100: asks the registrar; answers 8100 with its result (and the auth code when 0). */
export function register(conn: Jt808Connection, h: Jt808Header, body: JsonObject): void {
  const decision = conn.config.registrar.register(h.phone, body);
  if (!(decision instanceof Promise)) {
    registered(conn, h, decision);
    return;
  }
  conn.waitForRegistrar();
  decision
    .then(
      (r) => registered(conn, h, r),
      (err: unknown) => {
        conn.kit.log.warn('JT/T 808 registration failed', { phone: h.phone, error: err });
        registered(conn, h, { result: Result.Failure, authCode: '' });
      },
    )
    .catch((err: unknown) => asyncFailure(conn, err))
    .finally(() => conn.registrarAnswered());
}

function registered(conn: Jt808Connection, h: Jt808Header, r: Registration): void {
  if (conn.phase === Phase.Closed) return;
  if (r.result === 0) {
    conn.issuedCode = r.authCode;
    conn.issuedFor = h.phone;
  } else if (conn.kit.logLimit.allow('jt808-reg:' + conn.link.remoteAddress)) {
    conn.kit.log.info('JT/T 808 registration refused', { phone: h.phone, address: conn.link.remoteAddress, result: r.result });
  }
  const code = r.result === 0 ? encodeGbk(r.authCode) : Buffer.alloc(0);
  const out = Buffer.allocUnsafe(3 + code.length);
  out.writeUInt16BE(h.msgSn, 0);
  out[2] = r.result;
  code.copy(out, 3);
  conn.write(conn.encodeReply(h, MsgId.RegisterResponse, out));
}

/** 0102: the registry's endpoint (when configured) or the authentication chain decides, then admission. */
export function authenticate(conn: Jt808Connection, h: Jt808Header, body: JsonObject): void {
  if (conn.phase === Phase.Online) {
    // Already in (a terminal that authenticates again): nothing changes.
    conn.write(conn.generalResponse(h, Result.Ok));
    return;
  }
  const code = typeof body['code'] === 'string' ? body['code'] : '';
  const registrar = conn.config.registrar;
  if (registrar.authenticate === undefined) {
    conn.login(h, code);
    return;
  }
  const issued = conn.issuedFor === h.phone ? conn.issuedCode : null;
  conn.waitForRegistrar();
  registrar
    .authenticate(h.phone, code, issued)
    .then(
      (ok) => endpointAnswered(conn, h, code, ok),
      (err: unknown) => {
        conn.kit.log.warn('JT/T 808 authentication failed', { phone: h.phone, error: err });
        endpointAnswered(conn, h, code, false);
      },
    )
    .catch((err: unknown) => asyncFailure(conn, err))
    .finally(() => conn.registrarAnswered());
}

function endpointAnswered(conn: Jt808Connection, h: Jt808Header, code: string, ok: boolean): void {
  if (conn.phase === Phase.Closed) return;
  if (ok) {
    conn.login(h, code, ACCEPTED);
    return;
  }
  conn.kit.metrics.connectionsRefused++;
  if (conn.kit.logLimit.allow('jt808-auth:' + conn.link.remoteAddress)) {
    conn.kit.log.info('JT/T 808 terminal not authenticated', { phone: h.phone, address: conn.link.remoteAddress });
  }
  conn.write(conn.generalResponse(h, Result.Failure));
  conn.violation('authentication refused', { phone: h.phone });
}

/** A bug after an asynchronous decision closes the connection instead of the process. */
function asyncFailure(conn: Jt808Connection, err: unknown): void {
  conn.kit.log.error('internal error after JT/T 808 registration or authentication', { clientId: conn.phone, error: err });
  conn.close('protocol-error');
}
