/**
 * One JT/T 808 terminal connection: framing, the registration/authentication gate, violations,
 * deadlines on the broker's wheel, the SessionOwner side (downlink JSON -> frames), and closing.
 * What each uplink message does lives in uplink.ts.
 *
 * States: Unauthenticated (only 0100/0102 accepted) -> Online (session attached, subscribed to
 * the dn topic) -> Closed. While a registry or authentication request is out, reading pauses
 * and frames already received wait in a small backlog.
 */
import type { Link, LinkHandler } from '../../../transports/link.js';
import { uncorkAtEndOfTurn, type TurnCorked } from '../../../transports/cork-batch.js';
import type { Session, SessionOwner } from '../../../core/session.js';
import type { Message, QoS } from '../../../core/message.js';
import type { WheelItem } from '../../../core/timer-wheel.js';
import type { ClientInfo, DisconnectReason } from '../../../core/events.js';
import { Message as CoreMessage } from '../../../core/message.js';
import { FrameScanner, type FrameSink } from '../codec/frame.js';
import { FRAME_FAULT_NAMES, FrameFault, Jt808InputError } from '../codec/errors.js';
import { encodeBody, encodeFrames, packetCount } from '../codec/message.js';
import type { Jt808Header } from '../codec/header.js';
import { Fields, isJsonObject } from '../codec/json-fields.js';
import { MsgId } from '../codec/message-ids.js';
import { Reassembler } from '../codec/reassembly.js';
import { Command, CommandQueue, type CommandSink, type DropReason } from './downlink.js';
import type { Jt808Context } from './context.js';
import { handleFrame } from './uplink.js';

export const enum TermState {
  Unauthenticated = 0,
  Online = 1,
  Closed = 2,
}

function publishLater(ctx: Jt808Context, msg: Message): void {
  ctx.broker.publish(msg);
}

/** Frames held while a registry/authentication request is out (more is a violation). */
const MAX_BACKLOG = 32;

export class Jt808Connection implements LinkHandler, FrameSink, SessionOwner, WheelItem, TurnCorked, CommandSink {
  readonly link: Link;
  readonly ctx: Jt808Context;
  state = TermState.Unauthenticated;
  /** Terminal phone (BCD digits) = MQTT client id, known once registered or authenticated. */
  phone = '';
  is2019 = false;
  protoVer = 0;
  session: Session | null = null;
  info: ClientInfo | null = null;
  upTopic = '';
  /** The auth code this connection's registration issued (compared at 0102 when set), and for which phone. */
  issuedCode: string | null = null;
  issuedFor = '';
  /** Bad frames in a row. */
  violations = 0;
  lastActivity: number;
  readonly openedAt: number;
  /** A registry or authentication request is out: frames wait in the backlog. */
  busy = false;
  commands: CommandQueue | null = null;
  reassembler: Reassembler | null = null;
  closeReason: DisconnectReason = 'connection-lost';

  wheelSlot = -1;
  wheelDeadline = 0;
  /** SessionOwner: the gateway subscribes at QoS 0, so the window is never used. */
  readonly sendWindow = 65535;

  private readonly scanner: FrameScanner;
  private backlog: Buffer[] | null = null;
  private nextSn = 0;
  private corked = false;
  private readonly outHeader: Jt808Header = { msgId: 0, encrypt: 0, bodyLength: 0, is2019: false, protoVer: 0, phone: '', msgSn: 0, fragTotal: 0, fragSn: 0 };

  constructor(link: Link, ctx: Jt808Context) {
    this.link = link;
    this.ctx = ctx;
    this.scanner = new FrameScanner(ctx.settings.maxFrameSize);
    const wheel = ctx.broker.wheel;
    this.lastActivity = this.openedAt = wheel.now;
    wheel.schedule(this, wheel.now + ctx.settings.authTimeoutMs);
  }

  /** Read through a getter so checks after calls that may close are not narrowed away. */
  get closed(): boolean {
    return this.state === TermState.Closed;
  }

  // --- LinkHandler -------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.state === TermState.Closed) return;
    this.lastActivity = this.ctx.broker.wheel.now;
    this.scanner.push(chunk, this);
  }

  onDrain(): void {}

  onClose(): void {
    if (this.state !== TermState.Closed) this.finish(this.closeReason);
  }

  // --- FrameSink ---------------------------------------------------------------------------

  onFrame(frame: Buffer, length: number): boolean {
    if (this.state === TermState.Closed) return false;
    if (this.busy) {
      const backlog = this.backlog ?? (this.backlog = []);
      if (backlog.length >= MAX_BACKLOG) return this.violation('frames sent while registration or authentication is pending', { held: backlog.length });
      backlog.push(Buffer.from(frame.subarray(0, length)));
      return true;
    }
    this.handleSafely(frame, length);
    return !this.closed;
  }

  onFrameFault(fault: FrameFault, bytes: number): boolean {
    return this.violation(`frame dropped: ${FRAME_FAULT_NAMES[fault]}`, { bytes });
  }

  /** A bug while handling one frame closes this connection, never the process. */
  private handleSafely(frame: Buffer, length: number): void {
    try {
      handleFrame(this, frame, length);
    } catch (err) {
      this.ctx.log.error('internal error handling a JT/T 808 frame', { clientId: this.phone, address: this.link.remoteAddress, msgId: length >= 2 ? frame.readUInt16BE(0) : -1, error: err });
      this.close('protocol-error');
    }
  }

  // --- async registration / authentication -------------------------------------------------

  /** Stops handling frames until `resumeFrames` (an HTTP request is out). */
  holdFrames(): void {
    this.busy = true;
    this.link.pause();
  }

  /** Handles the frames that arrived meanwhile, then reads again. */
  resumeFrames(): void {
    this.busy = false;
    if (this.state === TermState.Closed) return;
    const held = this.backlog;
    this.backlog = null;
    if (held !== null) {
      for (const frame of held) {
        if (this.closed) return;
        if (this.busy) {
          (this.backlog ?? (this.backlog = [])).push(frame);
          continue;
        }
        this.handleSafely(frame, frame.length);
      }
    }
    if (!this.busy && !this.closed) this.link.resume();
  }

  // --- violations --------------------------------------------------------------------------

  /** Counts a bad frame; closes after --jt808-max-violations in a row. Returns false once closed. */
  violation(what: string, fields: Record<string, unknown>): boolean {
    this.violations++;
    this.ctx.broker.metrics.protocolErrors++;
    const max = this.ctx.settings.maxViolations;
    this.logDebug(what, { ...fields, violations: this.violations, maxViolations: max });
    if (this.violations < max) return true;
    this.logDebug('closed: too many bad frames in a row', { maxViolations: max });
    this.close('protocol-error');
    return false;
  }

  // --- going online ------------------------------------------------------------------------

  /** Authentication succeeded: attach the session, subscribe to the dn topic, report online. */
  goOnline(h: Jt808Header): void {
    const ctx = this.ctx;
    this.phone = h.phone;
    this.is2019 = h.is2019;
    this.protoVer = h.protoVer;
    const clientId = h.phone;
    const version = h.is2019 ? '2019' : '2013';
    const { session } = ctx.broker.connect(clientId, `jt808/${version}`, true, 0, this);
    // connect() may have kicked an older connection of this terminal, which is fine.
    this.session = session;
    this.upTopic = `jt808/${clientId}/${h.phone}/up`;
    ctx.broker.subscribe(session, { filter: `jt808/${clientId}/${h.phone}/dn`, qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0, subscriptionId: 0 });
    this.state = TermState.Online;
    this.commands = new CommandQueue(ctx.settings, this);
    this.info = {
      clientId,
      username: null,
      address: this.link.remoteAddress,
      port: this.link.remotePort,
      protocol: 'jt808',
      protocolVersion: version,
      transport: this.link.transport,
      keepAlive: Math.round(ctx.settings.heartbeatTimeoutMs / 1000),
      cleanStart: true,
    };
    ctx.broker.metrics.connectionsOpened++;
    ctx.events.connected(this.info);
    this.logDebug('terminal online', { version });
    this.reschedule();
  }

  // --- writing -----------------------------------------------------------------------------

  /** Writes bytes, corking the link until the end of this turn. */
  write(bytes: Buffer): void {
    if (this.state === TermState.Closed) return;
    if (!this.corked) {
      this.corked = true;
      this.link.cork();
      uncorkAtEndOfTurn(this);
    }
    this.link.write(bytes);
  }

  uncorkTurn(): void {
    this.corked = false;
    this.link.uncork();
  }

  /** The next outgoing msg_sn (advancing by the packets a body needs). */
  takeSn(packets = 1): number {
    const sn = this.nextSn;
    this.nextSn = (sn + packets) & 0xffff;
    return sn;
  }

  /** Encodes a platform message to the terminal that sent `to` (phone and edition from it). */
  encodeReply(to: Jt808Header, msgId: number, body: Buffer): Buffer {
    return this.encodeTo(to.phone, to.is2019, to.protoVer, msgId, body);
  }

  /** Frames of one platform message with the next msg_sn (left in `outHeader.msgSn`). */
  private encodeTo(phone: string, is2019: boolean, protoVer: number, msgId: number, body: Buffer): Buffer {
    const h = this.outHeader;
    h.msgId = msgId;
    h.is2019 = is2019;
    h.protoVer = protoVer;
    h.phone = phone;
    h.msgSn = this.takeSn(packetCount(body.length));
    return encodeFrames(h, body);
  }

  /** 8001 {seq, id, result} answering `to`. */
  generalResponse(to: Jt808Header, result: number): Buffer {
    const body = Buffer.allocUnsafe(5);
    body.writeUInt16BE(to.msgSn, 0);
    body.writeUInt16BE(to.msgId, 2);
    body[4] = result;
    return this.encodeReply(to, MsgId.PlatformResponse, body);
  }

  // --- SessionOwner: JSON published on the dn topic ----------------------------------------

  sendMessage(msg: Message, _qos: QoS, _retain: boolean, _packetId: number, _dup: boolean, _subIds: readonly number[] | null): boolean {
    if (this.state !== TermState.Online || this.commands === null) return false;
    let msgId = -1;
    try {
      const json: unknown = JSON.parse(msg.payload.toString('utf8'));
      if (!isJsonObject(json)) throw new Jt808InputError('the message must be a JSON object {"header": {"msg_id": ...}, "body": {...}}');
      const header = Fields.of(json['header'], 'header');
      msgId = header.uint('msg_id', 0xffff);
      const body = json['body'] === undefined ? new Fields({}, 'body') : Fields.of(json['body'], 'body');
      const frames = this.encodeTo(this.phone, this.is2019, this.protoVer, msgId, encodeBody(msgId, body, this.is2019));
      this.commands.submit(new Command(msgId, this.outHeader.msgSn, frames), this.ctx.broker.wheel.now);
      this.reschedule();
      return true;
    } catch (err) {
      const detail = err instanceof SyntaxError ? `not JSON: ${err.message}` : err instanceof Error ? err.message : String(err);
      this.publishDrop(msgId, -1, 'invalid', detail, 0);
      return true;
    }
  }

  sendRelease(): void {}

  kick(reason: number, reasonString: string): void {
    if (this.state === TermState.Closed) return;
    this.logDebug('closed by the broker', { reason: '0x' + reason.toString(16), detail: reasonString });
    this.close(reason === 0x8e ? 'takeover' : reason === 0x8b ? 'shutdown' : 'kicked');
  }

  // --- CommandSink -------------------------------------------------------------------------

  writeCommand(bytes: Buffer): void {
    this.write(bytes);
  }

  commandDropped(cmd: Command, reason: DropReason): void {
    this.publishDrop(cmd.msgId, cmd.msgSn, reason, '', cmd.attempts);
  }

  /**
   * Reports a downlink command that will not reach the terminal, on
   * $SYS/brokers/{node}/jt808/{clientid}/dropped. Published on the next tick: a drop can happen
   * inside a delivery, and the router must not be re-entered.
   */
  private publishDrop(msgId: number, msgSn: number, reason: DropReason, detail: string, attempts: number): void {
    const ctx = this.ctx;
    ctx.broker.metrics.messagesDropped++;
    if (ctx.logLimit.allow('jt808-drop:' + this.phone)) {
      ctx.log.info('JT/T 808 downlink command dropped', { clientId: this.phone, msgId, msgSn, reason, detail, attempts });
    }
    const event = { clientid: this.phone, phone: this.phone, msg_id: msgId, msg_sn: msgSn, reason, detail, attempts, ts: Date.now() };
    const msg = new CoreMessage(`${ctx.sysPrefix}${this.phone}/dropped`, Buffer.from(JSON.stringify(event)), 0, false, null, 0, null);
    process.nextTick(publishLater, ctx, msg);
  }

  // --- deadlines ---------------------------------------------------------------------------

  /** Files the earliest of this connection's deadlines (lazily: later moves are found on firing). */
  reschedule(): void {
    if (this.state === TermState.Closed) return;
    const next = this.nextDeadline();
    if (this.wheelSlot === -1 || next < this.wheelDeadline) this.ctx.broker.wheel.schedule(this, next);
  }

  private nextDeadline(): number {
    const s = this.ctx.settings;
    let next = this.state === TermState.Online ? this.lastActivity + s.heartbeatTimeoutMs : this.openedAt + s.authTimeoutMs;
    const retry = this.commands?.nextDeadline() ?? 0;
    if (retry !== 0 && retry < next) next = retry;
    const split = this.reassembler?.nextDeadline() ?? 0;
    if (split !== 0 && split < next) next = split;
    return next;
  }

  onTimer(now: number): number {
    if (this.state === TermState.Closed) return 0;
    const s = this.ctx.settings;
    if (this.state !== TermState.Online) {
      if (now >= this.openedAt + s.authTimeoutMs) {
        this.logDebug('closed: not authenticated within the authentication timeout', { timeoutSeconds: s.authTimeoutMs / 1000 });
        this.close('connect-timeout');
        return 0;
      }
    } else if (now >= this.lastActivity + s.heartbeatTimeoutMs) {
      this.logDebug('closed: heartbeat timeout', { timeoutSeconds: s.heartbeatTimeoutMs / 1000 });
      this.close('keepalive-timeout');
      return 0;
    }
    this.commands?.onTimer(now);
    if (this.reassembler !== null) {
      const before = this.reassembler.dropped;
      this.reassembler.expire(now);
      if (this.reassembler.dropped !== before) this.logDebug('split message incomplete at the split timeout; packets dropped', { dropped: this.reassembler.dropped - before });
    }
    return this.nextDeadline();
  }

  // --- closing -----------------------------------------------------------------------------

  /** Ends the connection after flushing what was written. */
  close(reason: DisconnectReason): void {
    if (this.state === TermState.Closed) return;
    this.finish(reason);
    this.link.end();
  }

  private finish(reason: DisconnectReason): void {
    const wasOnline = this.state === TermState.Online;
    this.state = TermState.Closed;
    const ctx = this.ctx;
    ctx.broker.wheel.cancel(this);
    ctx.connections--;
    ctx.broker.metrics.connectionsClosed++;
    this.backlog = null;
    this.reassembler?.clear();
    if (this.commands !== null) {
      const commands = this.commands;
      this.commands = null;
      commands.dropAll();
    }
    if (this.session !== null) {
      const session = this.session;
      this.session = null;
      ctx.broker.detach(session, this, null);
    }
    if (wasOnline && this.info !== null) {
      this.logDebug('terminal offline', { reason });
      ctx.events.disconnected(this.info, reason);
    }
  }

  logDebug(msg: string, fields: Record<string, unknown>): void {
    const log = this.ctx.log;
    if (!log.enabled('debug')) return;
    if (!this.ctx.logLimit.allow(this.link.remoteAddress)) return;
    log.debug(msg, { protocol: 'jt808', clientId: this.phone, address: this.link.remoteAddress, port: this.link.remotePort, ...fields });
  }
}

