/**
 * One JT/T 808 terminal connection: framing, bad-frame violations, the login (registration and
 * authentication, then admission), downlink JSON turned into frames through the retrying
 * command window, and the deadlines of heartbeats, resends and split messages. The shell does
 * the rest (reading, pauses, turns, closing). What each uplink message does is in handlers/.
 *
 * Phases: Connecting (only 0100 and 0102 accepted) -> Online (session attached, subscribed to
 * the dn topic) -> Closed. While a registry or authentication request is out, reading pauses.
 */
import type { Link } from '../../transports/link.js';
import { Delivered, type Delivery } from '../../core/session.js';
import type { AuthResult } from '../../core/auth.js';
import type { DisconnectReason } from '../../core/events.js';
import { ConnectionShell, Phase } from '../../gateway/shell.js';
import type { Admission, GatewayContext } from '../../gateway/context.js';
import { Refusal } from '../../gateway/refusal.js';
import { CommandWindow, type CommandDropReason, type CommandSink } from '../../gateway/command-window.js';
import { FrameScanner, type FrameSink } from './codec/frame.js';
import { FRAME_FAULT_NAMES, type FrameFault, Jt808InputError } from './codec/errors.js';
import { encodeBody, encodeFrames, packetCount } from './codec/message.js';
import type { Jt808Header } from './codec/header.js';
import { Fields, isJsonObject } from './codec/json-fields.js';
import { MsgId, Result } from './codec/message-ids.js';
import type { Reassembler } from './codec/reassembly.js';
import { Jt808Command } from './downlink.js';
import { handleFrame, isLoginMessage } from './handlers/index.js';
import type { Jt808Config } from './protocol.js';

// Replies are encoded synchronously, one at a time: one header serves every connection.
const outHeader: Jt808Header = { msgId: 0, encrypt: 0, bodyLength: 0, is2019: false, protoVer: 0, phone: '', msgSn: 0, fragTotal: 0, fragSn: 0 };

export class Jt808Connection extends ConnectionShell implements FrameSink, CommandSink<Jt808Command> {
  readonly protocolName = 'jt808';
  /** The gateway subscribes at QoS 0: the command window, not the core's, holds what is owed. */
  readonly sendWindow = 65535;
  readonly config: Jt808Config;
  /** SessionOwner capability: a point-to-point message stands for a command on this topic. */
  downlinkTopic: string | null = null;
  /** False when the device may not read its downlink topic: no command reaches it, point-to-point ones neither. */
  commandsAllowed = false;
  is2019 = false;
  protoVer = 0;
  upTopic = '';
  /** The auth code this connection's registration issued (compared at 0102), and for which phone. */
  issuedCode: string | null = null;
  issuedFor = '';
  /** Bad frames in a row. */
  violations = 0;
  commands: CommandWindow<Jt808Command> | null = null;
  reassembler: Reassembler | null = null;

  private readonly openedAt: number;
  private readonly scanner: FrameScanner;
  /** The 0102 being admitted, answered once admission decides. */
  private pendingLogin: Jt808Header | null = null;
  /**
   * A 0100 or 0102 past this pass's login budget (unescaped, copied out of the scanner's shared
   * buffer): handled first when the connection's turn comes again; what followed waits in the scanner.
   */
  private waitingLogin: Buffer | null = null;
  private nextSn = 0;

  constructor(link: Link, kit: GatewayContext, config: Jt808Config) {
    super(link, kit, config.authTimeoutMs);
    this.config = config;
    // Until the terminal is in, its frames (registration, authentication) are bounded by --max-connect-size too.
    this.scanner = new FrameScanner(Math.min(config.maxFrameSize, kit.options.maxConnectSize));
    // A link made late (native TCP: at the first bytes) was open, silent, before.
    this.openedAt = kit.wheel.now - (link.silentForMs ?? 0);
  }

  /** The terminal's phone (BCD digits): its client id. */
  get phone(): string {
    return this.clientId;
  }

  protected get protocolVersion(): string {
    return this.is2019 ? '2019' : '2013';
  }

  protected override infoExtras(): { keepAlive?: number; cleanStart?: boolean } {
    return { keepAlive: Math.round(this.config.heartbeatTimeoutMs / 1000), cleanStart: true };
  }

  // --- reading -----------------------------------------------------------------------------

  protected receive(chunk: Buffer | null): void {
    if (chunk === null) {
      const login = this.waitingLogin;
      if (login !== null) {
        // Still past the budget: it waits another pass. What followed stays in the scanner
        // until the login went through.
        if (!this.takeLoginTurn()) return;
        this.waitingLogin = null;
        if (!this.handle(login, login.length)) return;
      }
      this.scanner.resume(this);
      return;
    }
    this.touch();
    this.scanner.push(chunk, this);
  }

  protected hold(chunk: Buffer): void {
    this.scanner.hold(chunk);
    if (this.scanner.pendingBytes > 2 * this.config.maxFrameSize) {
      this.violation('more than two frames sent while registration or authentication was pending', { bytes: this.scanner.pendingBytes });
      if (this.phase !== Phase.Closed) this.close('protocol-error');
    }
  }

  protected override loginBytesHeld(): number {
    return this.scanner.pendingBytes + (this.waitingLogin === null ? 0 : this.waitingLogin.length);
  }

  onFrame(frame: Buffer, length: number): boolean {
    if (this.phase === Phase.Closed) return false;
    if (this.phase === Phase.Connecting && length >= 2 && isLoginMessage(frame.readUInt16BE(0)) && !this.takeLoginTurn()) {
      // This pass's logins are spent: the message waits for the next pass, after the
      // established terminals' reads (a storm must not hold the loop).
      this.waitingLogin = Buffer.from(frame.subarray(0, length));
      return false;
    }
    return this.handle(frame, length);
  }

  /** Handles one unescaped frame; false when reading must stop (closed, paused, turn over). */
  private handle(frame: Buffer, length: number): boolean {
    try {
      handleFrame(this, frame, length);
    } catch (err) {
      // A bug while handling one frame closes this connection, never the process.
      this.kit.log.error('internal error handling a JT/T 808 frame', { clientId: this.phone, address: this.link.remoteAddress, msgId: length >= 2 ? frame.readUInt16BE(0) : -1, error: err });
      this.close('protocol-error');
    }
    return this.proceed(1);
  }

  onFrameFault(fault: FrameFault, bytes: number): boolean {
    return this.violation(`frame dropped: ${FRAME_FAULT_NAMES[fault]}`, { bytes });
  }

  /** Counts a bad frame; closes after --jt808-max-violations in a row. Returns false once closed. */
  violation(what: string, fields: Record<string, unknown>): boolean {
    this.violations++;
    this.kit.metrics.protocolErrors++;
    const max = this.config.maxViolations;
    this.logDebug(what, { ...fields, violations: this.violations, maxViolations: max });
    if (this.violations < max) return true;
    this.logDebug('closed: too many bad frames in a row', { maxViolations: max });
    this.close('protocol-error');
    return false;
  }

  // --- login -------------------------------------------------------------------------------

  /** Stops reading while a registry or authentication request is out. */
  waitForRegistrar(): void {
    this.holdReading();
  }

  /** The registrar answered: handles what arrived meanwhile, then reads again. */
  registrarAnswered(): void {
    this.releaseReading();
  }

  /** Authentication (0102) with `code`: admission decides (the registry already did when `decided`). */
  login(h: Jt808Header, code: string, decided?: AuthResult): void {
    this.clientId = h.phone;
    this.is2019 = h.is2019;
    this.protoVer = h.protoVer;
    this.pendingLogin = h;
    const protocol = h.is2019 ? 'jt808/2019' : 'jt808/2013';
    this.admit({ clientId: h.phone, username: h.phone, password: Buffer.from(code), protocol, ...(decided !== undefined ? { decided } : {}) });
  }

  protected admitted(answer: Admission): void {
    const h = this.pendingLogin!;
    this.pendingLogin = null;
    if (!answer.ok) {
      this.write(this.generalResponse(h, Result.Failure));
      this.violation('authentication refused', { phone: h.phone, reason: answer.refusal });
      return;
    }
    const client = (this.client = answer.client);
    // attach() may kick an older connection of this terminal, which is fine.
    client.attach(true, 0);
    this.upTopic = `jt808/${h.phone}/${h.phone}/up`;
    const downlink = `jt808/${h.phone}/${h.phone}/dn`;
    const sub = client.subscribe({ filter: downlink, qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0, subscriptionId: 0 });
    // Point-to-point messages stand for commands on this topic, whatever the device may read.
    this.downlinkTopic = downlink;
    this.commandsAllowed = sub.refusal === Refusal.None;
    if (!this.commandsAllowed) this.warn('not authorized to subscribe to its downlink topic; commands will not reach it', { topic: downlink, detail: client.refusalDetail });
    this.commands = new CommandWindow<Jt808Command>(
      { maxInflight: this.config.maxInflight, maxQueued: this.config.maxQueued, retryIntervalMs: this.config.retryIntervalMs, retries: this.config.retryCount },
      this,
    );
    this.scanner.limit(this.config.maxFrameSize);
    this.goOnline();
    this.logDebug('terminal online', { version: this.protocolVersion });
    this.write(this.generalResponse(h, Result.Ok));
    this.reschedule();
  }

  // --- writing -----------------------------------------------------------------------------

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
    const h = outHeader;
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

  // --- downlink: JSON published on the dn topic --------------------------------------------

  deliver(d: Delivery): Delivered {
    if (this.phase !== Phase.Online || this.commands === null || !this.commandsAllowed) return Delivered.Refused;
    let msgId = -1;
    try {
      const json: unknown = JSON.parse(d.msg.payload.toString('utf8'));
      if (!isJsonObject(json)) throw new Jt808InputError('the message must be a JSON object {"header": {"msg_id": ...}, "body": {...}}');
      const header = Fields.of(json['header'], 'header');
      msgId = header.uint('msg_id', 0xffff);
      const body = json['body'] === undefined ? new Fields({}, 'body') : Fields.of(json['body'], 'body');
      const frames = this.encodeTo(this.phone, this.is2019, this.protoVer, msgId, encodeBody(msgId, body, this.is2019));
      if (!this.commands.submit(new Jt808Command(msgId, outHeader.msgSn, frames, d.msg), this.kit.wheel.now)) return Delivered.Refused;
      this.reschedule();
      return Delivered.Written;
    } catch (err) {
      const detail = err instanceof SyntaxError ? `not JSON: ${err.message}` : err instanceof Error ? err.message : String(err);
      this.reportDrop(msgId, -1, 'invalid', detail, 0);
      return Delivered.Refused;
    }
  }

  writeCommand(bytes: Buffer): void {
    this.write(bytes);
  }

  commandDropped(cmd: Jt808Command, reason: CommandDropReason): void {
    this.reportDrop(cmd.msgId, cmd.msgSn, reason, '', cmd.attempts);
    // A full queue refuses the delivery itself (counted by the core); these were taken first.
    if (reason !== 'queue-full') this.client?.dropped(cmd.msg, 'unanswered');
  }

  /** Reports a downlink command that will not reach the terminal, on $SYS/brokers/{node}/jt808/{clientid}/dropped. */
  private reportDrop(msgId: number, msgSn: number, reason: CommandDropReason, detail: string, attempts: number): void {
    const kit = this.kit;
    if (kit.logLimit.allow('jt808-drop:' + this.phone)) kit.log.info('JT/T 808 downlink command dropped', { clientId: this.phone, msgId, msgSn, reason, detail, attempts });
    const event = { clientid: this.phone, phone: this.phone, msg_id: msgId, msg_sn: msgSn, reason, detail, attempts, ts: Date.now() };
    kit.publishEvent(`$SYS/brokers/${kit.nodeName}/jt808/${this.phone}/dropped`, Buffer.from(JSON.stringify(event)));
  }

  // --- deadlines ---------------------------------------------------------------------------

  /** Files the earliest of this connection's deadlines. */
  reschedule(): void {
    this.schedule(this.nextDeadline());
  }

  private nextDeadline(): number {
    const c = this.config;
    let next = this.phase === Phase.Online ? this.lastActivity + c.heartbeatTimeoutMs : this.openedAt + c.authTimeoutMs;
    const retry = this.commands?.nextDeadline() ?? 0;
    if (retry !== 0 && retry < next) next = retry;
    const split = this.reassembler?.nextDeadline() ?? 0;
    if (split !== 0 && split < next) next = split;
    return next;
  }

  protected override beforeOnline(now: number): number {
    if (now >= this.openedAt + this.config.authTimeoutMs) {
      this.logDebug('closed: not authenticated within the authentication timeout', { timeoutSeconds: this.config.authTimeoutMs / 1000 });
      this.close('connect-timeout');
      return 0;
    }
    this.expireSplits(now);
    return this.nextDeadline();
  }

  protected tick(now: number): number {
    if (now >= this.lastActivity + this.config.heartbeatTimeoutMs) {
      this.logDebug('closed: heartbeat timeout', { timeoutSeconds: this.config.heartbeatTimeoutMs / 1000 });
      this.close('keepalive-timeout');
      return 0;
    }
    this.commands?.onTimer(now);
    this.expireSplits(now);
    return this.nextDeadline();
  }

  private expireSplits(now: number): void {
    const r = this.reassembler;
    if (r === null) return;
    const before = r.dropped;
    r.expire(now);
    if (r.dropped !== before) this.logDebug('split message incomplete at the split timeout; packets dropped', { dropped: r.dropped - before });
  }

  // --- closing -----------------------------------------------------------------------------

  /** Ends the connection after flushing what was written. */
  close(reason: DisconnectReason): void {
    this.end(reason);
  }

  protected override released(): void {
    this.waitingLogin = null;
    this.scanner.clear();
    this.reassembler?.clear();
    const commands = this.commands;
    this.commands = null;
    commands?.dropAll();
  }
}
