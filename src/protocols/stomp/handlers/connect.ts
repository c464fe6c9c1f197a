/**
 * CONNECT and STOMP: version negotiation (accept-version; none = 1.0), heart-beat agreement,
 * login/passcode through the broker's authenticator (possibly asynchronous: reading pauses),
 * the session (client id from the `client-id` header, else generated), then CONNECTED.
 */
import { randomBytes } from 'node:crypto';
import { StompState, type StompConnection } from '../connection.js';
import { SUPPORTED_VERSIONS, escapingOf, type StompFrame, type StompVersion } from '../codec/frame.js';
import { StompError } from '../errors.js';
import type { AuthResult, ConnectInfo } from '../../../core/auth.js';
import type { ClientInfo } from '../../../core/events.js';

/** What CONNECTED names as the server. */
export const SERVER_NAME = 'Junction/0.1.0';
const MAX_CLIENT_ID = 256;

/** Handles CONNECT or STOMP. */
export function handleConnect(conn: StompConnection, frame: StompFrame): void {
  const version = negotiate(frame.header('accept-version'));
  conn.version = version;
  const [cx, cy] = version === '1.0' ? [0, 0] : parseHeartBeat(frame.header('heart-beat'));
  const limits = conn.ctx.limits;
  conn.sendBeatMs = limits.heartbeatOut === 0 || cy === 0 ? 0 : Math.max(limits.heartbeatOut, cy);
  conn.receiveBeatMs = limits.heartbeatIn === 0 || cx === 0 ? 0 : Math.max(limits.heartbeatIn, cx);

  const named = frame.header('client-id');
  if (named !== undefined) {
    if (named === '' || named.length > MAX_CLIENT_ID) throw new StompError(`client-id must be 1 to ${MAX_CLIENT_ID} characters`, 'JN_CLIENT_ID_INVALID');
    conn.clientId = named;
    conn.namedClient = true;
  } else {
    conn.clientId = 'stomp-' + randomBytes(9).toString('base64url');
  }
  const login = frame.header('login');
  const passcode = frame.header('passcode');
  conn.username = login ?? null;
  const info: ConnectInfo = {
    clientId: conn.clientId,
    username: conn.username,
    password: passcode === undefined ? null : Buffer.from(passcode),
    remoteAddress: conn.link.remoteAddress,
    protocol: `stomp/${version}`,
    transport: conn.link.transport,
  };
  const decision = conn.ctx.security.authenticator.authenticate(info);
  if (decision instanceof Promise) {
    conn.state = StompState.Authenticating;
    conn.link.pause();
    decision.then(
      (result) => {
        if (conn.state !== StompState.Authenticating) return;
        conn.state = StompState.AwaitingConnect;
        if (admit(conn, frame, result)) conn.resumeAfterAuth();
      },
      (err: unknown) => {
        if (conn.state !== StompState.Authenticating) return;
        conn.ctx.log.warn('authentication provider failed; refusing the STOMP client', { clientId: conn.clientId, error: err });
        conn.state = StompState.AwaitingConnect;
        conn.fail(new StompError('authentication unavailable', 'JN_SERVER_BUSY'), frame.header('receipt') ?? null);
      },
    );
    return;
  }
  admit(conn, frame, decision);
}

/** Completes CONNECT once authentication answered; true if the client is in. */
function admit(conn: StompConnection, frame: StompFrame, result: AuthResult): boolean {
  const ctx = conn.ctx;
  if (!result.ok) {
    ctx.broker.metrics.connectionsRefused++;
    if (ctx.logLimit.allow('auth:' + conn.link.remoteAddress)) {
      ctx.log.info('STOMP connection refused: not authorized', { clientId: conn.clientId, username: conn.username, address: conn.link.remoteAddress });
    }
    ctx.events.disconnected(clientInfo(conn), 'auth-failure');
    const why = result.reason === 0x86 ? 'login failed: bad login or passcode' : 'login failed: not authorized';
    conn.fail(new StompError(why, result.reason === 0x86 ? 'JN_BAD_CREDENTIALS' : 'JN_NOT_AUTHORIZED'), frame.header('receipt') ?? null);
    return false;
  }
  if (result.username !== undefined) conn.username = result.username;
  const { session } = ctx.broker.connect(conn.clientId, `stomp/${conn.version}`, true, 0, conn);
  conn.session = session;
  conn.state = StompState.Connected;
  conn.escaping = escapingOf(conn.version);
  conn.parser.escaping = conn.escaping;
  const limits = ctx.limits;
  const headers: Array<readonly [string, string]> = [
    ['version', conn.version],
    ['session', conn.clientId],
    ['server', SERVER_NAME],
  ];
  if (conn.version !== '1.0') headers.push(['heart-beat', `${limits.heartbeatOut},${limits.heartbeatIn}`]);
  conn.sendFrame('CONNECTED', headers);
  conn.startHeartbeats();
  ctx.broker.metrics.connectionsOpened++;
  conn.info = clientInfo(conn);
  ctx.events.connected(conn.info);
  conn.logDebug('client connected', { version: conn.version, sendBeatMs: conn.sendBeatMs, receiveBeatMs: conn.receiveBeatMs });
  ctx.broker.resume(session);
  return true;
}

/** The highest version both sides speak; throws ERROR (with `version`) when there is none. */
export function negotiate(acceptVersion: string | undefined): StompVersion {
  if (acceptVersion === undefined) return '1.0';
  const offered = acceptVersion.split(',').map((v) => v.trim());
  for (let i = SUPPORTED_VERSIONS.length - 1; i >= 0; i--) {
    const v = SUPPORTED_VERSIONS[i]!;
    if (offered.includes(v)) return v;
  }
  throw new StompError(`no common STOMP version: client accepts '${acceptVersion}', server supports ${SUPPORTED_VERSIONS.join(',')}`, 'JN_UNSUPPORTED_VERSION', [
    ['version', SUPPORTED_VERSIONS.join(',')],
  ]);
}

/** `cx,cy` in ms; absent = 0,0. */
export function parseHeartBeat(value: string | undefined): [number, number] {
  if (value === undefined) return [0, 0];
  const m = /^\s*([0-9]{1,9})\s*,\s*([0-9]{1,9})\s*$/.exec(value);
  if (m === null) throw new StompError(`heart-beat '${value}' is not two comma-separated millisecond counts (e.g. 10000,10000)`, 'JN_MALFORMED');
  return [Number(m[1]), Number(m[2])];
}

function clientInfo(conn: StompConnection): ClientInfo {
  return {
    clientId: conn.clientId,
    username: conn.username,
    address: conn.link.remoteAddress,
    port: conn.link.remotePort,
    protocol: 'stomp',
    protocolVersion: conn.version,
    transport: conn.link.transport,
    cleanStart: true,
  };
}
