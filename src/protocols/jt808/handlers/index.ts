/**
 * What the gateway does with each uplink frame: check it, reassemble split messages, gate on
 * authentication, parse the body, then register, authenticate, answer, settle a pending
 * command, and publish EMQX's JSON at QoS 1 on jt808/{clientid}/{phone}/up. The automatic
 * answer (8001, 8004, 8800) goes out once the publish is accepted: at once, or after the
 * store commit when the publish was stored.
 *
 * Not published, as in EMQX: heartbeats (0002), deregistration (0003), registration (0100) and
 * authentication (0102, which carries the auth code).
 */
import type { StoreFullError } from '../../../store/types.js';
import { Message } from '../../../core/message.js';
import { Phase } from '../../../gateway/shell.js';
import { Refusal } from '../../../gateway/refusal.js';
import { FRAME_FAULT_NAMES, FrameFault, Jt808BodyError } from '../codec/errors.js';
import { ATTR_SPLIT, headerJson, type Jt808Header } from '../codec/header.js';
import type { JsonObject } from '../codec/json-fields.js';
import { bodyJson, parseFrame } from '../codec/message.js';
import { MsgId, Result } from '../codec/message-ids.js';
import { Reassembler, SplitRefusal } from '../codec/reassembly.js';
import type { Jt808Connection } from '../connection.js';
import { authenticate, register } from './login.js';

/** Uplink messages the platform answers with 8001 result 0. */
const AUTO_ACK: ReadonlySet<number> = new Set([
  MsgId.Location,
  MsgId.BulkLocation,
  MsgId.CanData,
  MsgId.MediaEvent,
  MsgId.Passthrough,
  MsgId.CompressedData,
  MsgId.EventReport,
  MsgId.InfoDemand,
  MsgId.WaybillReport,
  MsgId.UpgradeResult,
  MsgId.TerminalRsaKey,
]);

/** Uplink messages that answer a command (settled by their seq). */
const COMMAND_REPLIES: ReadonlySet<number> = new Set([MsgId.QueryParamsResponse, MsgId.QueryAttributesResponse, MsgId.LocationQueryResponse, MsgId.VehicleControlResponse, MsgId.CameraShotResponse]);

/** True for registration (0100) and authentication (0102): the messages before login, what the login budget counts. */
export function isLoginMessage(msgId: number): boolean {
  return msgId === MsgId.Register || msgId === MsgId.Authenticate;
}

/** Handles one unescaped frame (frame[0..length), a shared buffer). */
export function handleFrame(conn: Jt808Connection, frame: Buffer, length: number): void {
  const p = parseFrame(frame, length);
  const h = p.header;
  if (p.fault !== FrameFault.None || h === null) {
    // A readable header gets 8001 "message error" so the terminal re-sends; the rest is dropped.
    if (h !== null && (p.fault === FrameFault.BadChecksum || p.fault === FrameFault.LengthMismatch)) conn.write(conn.generalResponse(h, Result.MessageError));
    conn.violation(`frame dropped: ${FRAME_FAULT_NAMES[p.fault]}`, h === null ? {} : { msgId: h.msgId, msgSn: h.msgSn });
    return;
  }
  const online = conn.phase === Phase.Online;
  if (!online && !isLoginMessage(h.msgId)) {
    conn.write(conn.generalResponse(h, Result.Failure));
    conn.violation('message before authentication', { msgId: h.msgId, phone: h.phone });
    return;
  }
  if (online && h.phone !== conn.phone) {
    conn.violation('frame with another phone number than the authenticated one', { framePhone: h.phone });
    return;
  }
  let header = h;
  let buf = frame;
  let start = p.bodyStart;
  let end = p.bodyEnd;
  if ((frame.readUInt16BE(2) & ATTR_SPLIT) !== 0) {
    const c = conn.config;
    const r = conn.reassembler ?? (conn.reassembler = new Reassembler(c.maxSplitParts, c.splitTimeoutMs));
    const whole = r.add(h, frame.subarray(start, end), conn.kit.wheel.now);
    if (typeof whole === 'number') {
      conn.write(conn.generalResponse(h, Result.MessageError));
      conn.violation(whole === SplitRefusal.TooManyParts ? 'split message has more packets than --jt808-max-split-parts' : 'packet index outside 1..total', { total: h.fragTotal, index: h.fragSn });
      return;
    }
    conn.violations = 0;
    if (whole === null) {
      conn.reschedule();
      return;
    }
    header = whole.header;
    buf = whole.body;
    start = 0;
    end = buf.length;
  }
  let body: JsonObject;
  try {
    body = bodyJson(header, buf, start, end);
  } catch (err) {
    if (!(err instanceof Jt808BodyError)) throw err;
    conn.write(conn.generalResponse(header, Result.MessageError));
    conn.violation(err.message, { msgId: header.msgId, msgSn: header.msgSn });
    return;
  }
  conn.violations = 0;
  dispatch(conn, header, body);
}

function dispatch(conn: Jt808Connection, h: Jt808Header, body: JsonObject): void {
  const id = h.msgId;
  switch (id) {
    case MsgId.Register:
      register(conn, h, body);
      return;
    case MsgId.Authenticate:
      authenticate(conn, h, body);
      return;
    case MsgId.Heartbeat:
      conn.write(conn.generalResponse(h, Result.Ok));
      return;
    case MsgId.Deregister:
      conn.write(conn.generalResponse(h, Result.Ok));
      conn.close('normal');
      return;
    case MsgId.QueryServerTime:
      publishUp(conn, h, body, conn.encodeReply(h, MsgId.ServerTime, utcTimeBcd(new Date())));
      return;
    case MsgId.MediaData: {
      const mediaId = body['id'];
      if (typeof mediaId !== 'number') {
        // Encrypted: the media id cannot be read, so a general response it is.
        publishUp(conn, h, body, conn.generalResponse(h, Result.Ok));
        return;
      }
      // 8800 with no packet list: everything arrived (reassembly already waited for it).
      const ack = Buffer.alloc(5);
      ack.writeUInt32BE(mediaId, 0);
      publishUp(conn, h, body, conn.encodeReply(h, MsgId.MediaDataResponse, ack));
      return;
    }
    case MsgId.TerminalResponse:
      publishUp(conn, h, body, null);
      if (typeof body['seq'] === 'number' && typeof body['id'] === 'number') settle(conn, id, body['seq'], body['id']);
      return;
    default:
      if (COMMAND_REPLIES.has(id)) {
        publishUp(conn, h, body, null);
        settle(conn, id, typeof body['seq'] === 'number' ? body['seq'] : -1, 0);
        return;
      }
      publishUp(conn, h, body, AUTO_ACK.has(id) ? conn.generalResponse(h, Result.Ok) : null);
  }
}

function settle(conn: Jt808Connection, replyId: number, seq: number, answeredId: number): void {
  if (conn.commands === null) return;
  if (conn.commands.settle((cmd) => cmd.answeredBy(replyId, seq, answeredId), conn.kit.wheel.now) !== null) conn.reschedule();
}

interface PendingReply {
  conn: Jt808Connection;
  bytes: Buffer;
  /** 8001 result 1: the store could not keep the uplink (--max-store-size, a full disk). */
  failed: Buffer;
}

function writeAfterCommit(p: PendingReply, failure: StoreFullError | null): void {
  if (failure !== null) p.conn.warn('uplink not stored: answered 8001 result 1', { detail: failure.message });
  p.conn.write(failure === null ? p.bytes : p.failed);
}

/**
 * Publishes {header, body} at QoS 1 on the up topic; writes `reply` once the publish is
 * accepted. A refused publish is answered 8001 result 1 (failure) where an answer was due.
 */
function publishUp(conn: Jt808Connection, h: Jt808Header, body: JsonObject, reply: Buffer | null): void {
  const client = conn.client!;
  const payload = Buffer.from(JSON.stringify({ header: headerJson(h), body }));
  const outcome = client.publish(new Message(conn.upTopic, payload, 1, false, null, 0, conn.phone));
  if (outcome.refusal !== Refusal.None) {
    if (outcome.refusal === Refusal.QuotaExceeded) {
      conn.warn('closing: the terminal kept publishing above the publish rate limit', {});
      conn.close('quota-exceeded');
      return;
    }
    conn.warn('uplink not published: not authorized', { topic: conn.upTopic, msgId: h.msgId, detail: client.refusalDetail });
    if (reply !== null) conn.write(conn.generalResponse(h, Result.Failure));
    return;
  }
  if (reply === null) return;
  if (outcome.stored) conn.kit.afterCommit(writeAfterCommit, { conn, bytes: reply, failed: conn.generalResponse(h, Result.Failure) });
  else conn.write(reply);
}

/** BCD[6] YYMMDDhhmmss of `now` in UTC (8004). */
function utcTimeBcd(now: Date): Buffer {
  const parts = [now.getUTCFullYear() % 100, now.getUTCMonth() + 1, now.getUTCDate(), now.getUTCHours(), now.getUTCMinutes(), now.getUTCSeconds()];
  return Buffer.from(parts.map((n) => (Math.floor(n / 10) << 4) | (n % 10)));
}
