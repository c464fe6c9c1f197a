/**
 * CONNECT and STOMP: version negotiation (accept-version; none = 1.0), heart-beat agreement,
 * login/passcode through the gateway's admission (possibly asynchronous: reading pauses),
 * the session (client id from the `client-id` header, else generated), then CONNECTED.
 */
import { randomBytes } from 'node:crypto';
import type { StompConnection } from '../connection.js';
import { SUPPORTED_VERSIONS, escapingOf, type StompFrame, type StompVersion } from '../codec/frame.js';
import { StompError } from '../errors.js';
import type { Admission } from '../../../gateway/context.js';

/** What CONNECTED names as the server. */
const SERVER_NAME = 'Junction/0.1.0';
const MAX_CLIENT_ID = 256;

/** Handles CONNECT or STOMP. */
export function handleConnect(conn: StompConnection, frame: StompFrame): void {
  const version = negotiate(frame.header('accept-version'));
  conn.version = version;
  const [cx, cy] = version === '1.0' ? [0, 0] : parseHeartBeat(frame.header('heart-beat'));
  const limits = conn.config.limits;
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
  conn.login(frame, frame.header('login'), frame.header('passcode'));
}

/** Completes CONNECT once admission answered: CONNECTED, or ERROR and close. */
export function completeConnect(conn: StompConnection, frame: StompFrame, answer: Admission): void {
  if (!answer.ok) {
    const why = answer.refusal === 'bad-credentials' ? 'login failed: bad login or passcode' : answer.refusal === 'not-authorized' ? 'login failed: not authorized' : `login refused: ${answer.detail}`;
    const code =
      answer.refusal === 'bad-credentials'
        ? 'JN_BAD_CREDENTIALS'
        : answer.refusal === 'not-authorized'
          ? 'JN_NOT_AUTHORIZED'
          : answer.refusal === 'client-id-taken'
            ? 'JN_CLIENT_ID_INVALID'
            : 'JN_SERVER_BUSY';
    conn.fail(new StompError(why, code), frame.header('receipt') ?? null);
    return;
  }
  const client = (conn.client = answer.client);
  client.attach(true, 0);
  conn.escaping = escapingOf(conn.version);
  conn.parser.escaping = conn.escaping;
  const limits = conn.config.limits;
  const headers: Array<readonly [string, string]> = [
    ['version', conn.version],
    ['session', conn.clientId],
    ['server', SERVER_NAME],
  ];
  if (conn.version !== '1.0') headers.push(['heart-beat', `${limits.heartbeatOut},${limits.heartbeatIn}`]);
  conn.sendFrame('CONNECTED', headers);
  conn.online();
  conn.startHeartbeats();
  conn.logDebug('client connected', { version: conn.version, sendBeatMs: conn.sendBeatMs, receiveBeatMs: conn.receiveBeatMs });
  client.resume();
}

/** The highest version both sides speak; throws ERROR (with `version`) when there is none. */
function negotiate(acceptVersion: string | undefined): StompVersion {
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
function parseHeartBeat(value: string | undefined): [number, number] {
  if (value === undefined) return [0, 0];
  const m = /^\s*([0-9]{1,9})\s*,\s*([0-9]{1,9})\s*$/.exec(value);
  if (m === null) throw new StompError(`heart-beat '${value}' is not two comma-separated millisecond counts (e.g. 10000,10000)`, 'JN_MALFORMED');
  return [Number(m[1]), Number(m[2])];
}
