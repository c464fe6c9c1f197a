/**
 * One vehicle (or platform) connection: framing with resynchronisation, the login gate and
 * authentication, local answers (login, logout, heartbeat, time sync), uplink publishing,
 * downlink commands, and one timer-wheel entry for the login timeout, the idle timeout and
 * command resends. States: AwaitingLogin -> Authenticating -> LoggedIn -> Closed.
 */
import type { Link, LinkHandler } from '../../transports/link.js';
import { uncorkAtEndOfTurn, type TurnCorked } from '../../transports/cork-batch.js';
import type { Session, SessionOwner } from '../../core/session.js';
import { Message, type QoS } from '../../core/message.js';
import type { WheelItem } from '../../core/timer-wheel.js';
import type { AuthResult, ClientGuard, TopicGrants } from '../../core/auth.js';
import type { ClientInfo, DisconnectReason } from '../../core/events.js';
import { Command, Encryption, OFFSET_COMMAND, OFFSET_ENCRYPTION, OFFSET_RESPONSE, OFFSET_VIN, HEADER_SIZE, ResponseFlag, VIN_LENGTH, hexId, isResponseFlag } from './codec/constants.js';
import { encodeFrame } from './codec/frame.js';
import { FrameStream, type FrameSink } from './framing.js';
import { timeAt, writeTime, type Gbt32960Time } from './codec/reader.js';
import { restamp } from './answers.js';
import { buildDownlink, CommandError } from './codec/downlink.js';
import { CommandQueue, type CommandWriter } from './commands.js';
import { UPSTREAM_SUFFIXES, upstreamIndex, uplinkData, uplinkJson } from './uplink.js';
import type { Gbt32960Context } from './context.js';

export const enum VehicleState {
  AwaitingLogin = 0,
  Authenticating = 1,
  LoggedIn = 2,
  Closed = 3,
}

/** VINs become topic levels: printable ASCII without MQTT's separators and wildcards. */
const VIN_PATTERN = /^[!"$-*,-.0-~]{17}$/;

export class VehicleConnection implements LinkHandler, FrameSink, SessionOwner, WheelItem, TurnCorked, CommandWriter {
  state = VehicleState.AwaitingLogin;
  vin = '';
  session: Session | null = null;
  info: ClientInfo | null = null;
  closeReason: DisconnectReason = 'connection-lost';
  /** QoS 0 deliveries only: the gateway keeps its own command queue. */
  readonly sendWindow = 1;
  wheelSlot = -1;
  wheelDeadline = 0;
  lastActivity: number;

  private readonly loginDeadline: number;
  private vinBytes: Buffer | null = null;
  /** The identity authentication settled on (the VIN unless a provider renamed it). */
  private username: string | null = null;
  private grants: TopicGrants | null = null;
  private guard: ClientGuard | null = null;
  private topics: string[] = [];
  /** Per upstream topic: 0 unknown, 1 allowed, 2 denied (the ACL is asked once per connection). */
  private readonly allowed = new Uint8Array(UPSTREAM_SUFFIXES.length);
  private readonly stream: FrameStream;
  private loginEncryption = Encryption.None as number;
  private corked = false;
  private readonly commands: CommandQueue;

  constructor(
    readonly link: Link,
    readonly ctx: Gbt32960Context,
  ) {
    const wheel = ctx.broker.wheel;
    this.lastActivity = wheel.now;
    this.loginDeadline = wheel.now + ctx.limits.loginTimeoutMs;
    wheel.schedule(this, this.loginDeadline);
    const l = ctx.limits;
    this.commands = new CommandQueue(this, l.maxQueuedCommands, l.retryIntervalMs, l.maxRetries);
    this.stream = new FrameStream(l.maxFrameSize);
  }

  // --- LinkHandler -------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.state === VehicleState.Closed) return;
    if (this.state === VehicleState.Authenticating) {
      // Reading is paused; what was already in flight waits, within the frame limit.
      this.stream.hold(chunk);
      if (this.stream.heldBytes > 2 * this.ctx.limits.maxFrameSize) this.protocolError('more than two frames sent while the login was being authenticated');
      return;
    }
    this.stream.feed(chunk, this);
  }

  onDrain(): void {
    /* answers are small; nothing waits for drain */
  }

  onClose(): void {
    if (this.state !== VehicleState.Closed) this.finish(this.closeReason);
  }

  // --- FrameSink -------------------------------------------------------------------------

  onFrame(buf: Buffer, start: number, end: number): boolean {
    this.handleFrame(buf, start, end);
    return this.state === VehicleState.LoggedIn || this.state === VehicleState.AwaitingLogin;
  }

  onSkipped(bytes: number): void {
    this.warn('bytes before "##" skipped', { bytes });
  }

  onBadFrame(error: string): void {
    this.ctx.broker.metrics.protocolErrors++;
    this.warn('bad frame skipped, resynchronising on the next "##"', { error });
  }

  private handleFrame(buf: Buffer, start: number, end: number): void {
    // Only whole frames count as life: a stream of garbage does not hold the connection open.
    this.lastActivity = this.ctx.broker.wheel.now;
    const command = buf[start + OFFSET_COMMAND]!;
    const response = buf[start + OFFSET_RESPONSE]!;
    const encryption = buf[start + OFFSET_ENCRYPTION]!;
    const data = buf.subarray(start + HEADER_SIZE, end - 1);
    if (this.state === VehicleState.AwaitingLogin) {
      if (command !== Command.VehicleLogin || response !== ResponseFlag.Command) {
        this.protocolError(`frame before vehicle login (command ${hexId(command)}, response flag ${hexId(response)})`);
        return;
      }
      this.login(buf.toString('latin1', start + OFFSET_VIN, start + OFFSET_VIN + VIN_LENGTH), encryption, data);
      return;
    }
    if (buf.compare(this.vinBytes!, 0, VIN_LENGTH, start + OFFSET_VIN, start + OFFSET_VIN + VIN_LENGTH) !== 0) {
      this.ctx.broker.metrics.protocolErrors++;
      this.warn('frame for another VIN than the one logged in dropped', { frameVin: buf.toString('latin1', start + OFFSET_VIN, start + OFFSET_VIN + VIN_LENGTH) });
      return;
    }
    if (response === ResponseFlag.Command) {
      switch (command) {
        case Command.Heartbeat:
          this.answer(Command.Heartbeat, null);
          return;
        case Command.TimeSync: {
          const now = Buffer.allocUnsafe(6);
          writeTime(now, 0, this.now());
          this.answer(Command.TimeSync, now);
          return;
        }
        case Command.VehicleLogin:
          // A new login on the same link (after a logout): published and answered again.
          this.publish(command, response, encryption, data);
          this.answer(Command.VehicleLogin, restamp(this.ctx.aes, this.now(), encryption, data));
          return;
        case Command.VehicleLogout:
          this.publish(command, response, encryption, data);
          this.answer(Command.VehicleLogout, restamp(this.ctx.aes, this.now(), encryption, data));
          return;
      }
    }
    this.publish(command, response, encryption, data);
    if (isResponseFlag(response)) this.commands.answered(command, this.ctx.broker.wheel.now);
  }

  // --- login -------------------------------------------------------------------------------

  private login(vin: string, encryption: number, data: Buffer): void {
    if (!VIN_PATTERN.test(vin)) {
      this.answerWith(Command.VehicleLogin, ResponseFlag.Error, Buffer.from(vin, 'latin1'), null);
      this.protocolError(`VIN ${JSON.stringify(vin)} is not 17 printable characters without "/", "+" or "#"`);
      return;
    }
    this.vin = vin;
    this.vinBytes = Buffer.from(vin, 'latin1');
    const loginData = Buffer.from(data);
    this.loginEncryption = encryption;
    const policy = this.ctx.security.policy;
    const admission = policy === undefined ? 0 : policy.admission(this.link);
    if (admission !== 0) {
      this.ctx.broker.metrics.connectionsRefused++;
      this.answer(Command.VehicleLogin, restamp(this.ctx.aes, this.now(), encryption, loginData), ResponseFlag.Error);
      this.warn('vehicle login refused by the admission policy', { reason: '0x' + admission.toString(16) });
      this.end('auth-failure');
      return;
    }
    this.state = VehicleState.Authenticating;
    this.link.pause();
    let result: AuthResult | Promise<AuthResult>;
    try {
      result = this.ctx.security.authenticator.authenticate({
        clientId: vin,
        username: vin,
        password: null,
        remoteAddress: this.link.remoteAddress,
        protocol: 'gbt32960/2016',
        transport: this.link.transport,
        peerIdentity: this.link.peerIdentity ?? null,
      });
    } catch (err) {
      this.ctx.log.error('authenticator failed', { vin, error: err });
      result = { ok: false, reason: 0x80 };
    }
    if (result instanceof Promise) {
      result.then(
        (r) => this.loggedIn(r, loginData),
        (err: unknown) => {
          this.ctx.log.error('authenticator failed', { vin, error: err });
          this.loggedIn({ ok: false, reason: 0x80 }, loginData);
        },
      );
    } else {
      this.loggedIn(result, loginData);
    }
  }

  private loggedIn(result: AuthResult, loginData: Buffer): void {
    if (this.state !== VehicleState.Authenticating) return;
    const vin = this.vin;
    if (!result.ok) {
      this.ctx.broker.metrics.connectionsRefused++;
      this.answer(Command.VehicleLogin, restamp(this.ctx.aes, this.now(), this.loginEncryption, loginData), ResponseFlag.Error);
      this.warn('vehicle login refused', { reason: '0x' + result.reason.toString(16), detail: result.detail ?? '' });
      this.end('auth-failure');
      return;
    }
    const broker = this.ctx.broker;
    this.username = result.username !== undefined ? result.username : vin;
    this.grants = result.grants ?? null;
    const policy = this.ctx.security.policy;
    if (policy !== undefined) this.guard = policy.guard(vin, this.username, this.grants, this.link);
    this.topics = UPSTREAM_SUFFIXES.map((suffix) => `gbt32960/${vin}/upstream/${suffix}`);
    const { session } = broker.connect(vin, 'gbt32960', true, 0, this);
    this.session = session;
    this.state = VehicleState.LoggedIn;
    const downlink = `gbt32960/${vin}/dnstream`;
    if (this.guard !== null ? this.guard.canSubscribe(downlink) : this.ctx.security.authorizer.canSubscribe(vin, this.username, downlink, this.grants)) {
      // QoS 0 and no retained messages: a retained command must not fire again at every login.
      broker.subscribe(session, { filter: downlink, qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 2, subscriptionId: 0 });
    } else {
      this.warn('not authorized to subscribe to its downlink topic; commands will not reach it', { topic: downlink });
    }
    this.publish(Command.VehicleLogin, ResponseFlag.Command, this.loginEncryption, loginData);
    this.answer(Command.VehicleLogin, restamp(this.ctx.aes, this.now(), this.loginEncryption, loginData));
    this.info = {
      clientId: vin,
      username: this.username,
      address: this.link.remoteAddress,
      port: this.link.remotePort,
      protocol: 'gbt32960',
      protocolVersion: '2016',
      transport: this.link.transport,
    };
    this.ctx.events.connected(this.info);
    this.schedule();
    this.link.resume();
    this.stream.resume(this);
  }

  // --- uplink and answers ------------------------------------------------------------------

  private publish(command: number, response: number, encryption: number, data: Buffer): void {
    const index = upstreamIndex(command, response);
    let allowed = this.allowed[index]!;
    if (allowed === 0) {
      const topic = this.topics[index]!;
      const guard = this.guard;
      allowed = (guard !== null ? guard.canPublish(topic) : this.ctx.security.authorizer.canPublish(this.vin, this.username, topic, this.grants)) ? 1 : 2;
      this.allowed[index] = allowed;
      if (allowed === 2) this.warn('not authorized to publish; its frames on this topic are dropped', { topic: this.topics[index] });
    }
    if (allowed === 2) return;
    const unit = uplinkData(command, encryption, data, this.ctx.aes, this.ctx.limits.scaled);
    if (unit['Error'] !== undefined) this.warn('frame decoded with an error (published with it)', { command: hexId(command), error: unit['Error'] });
    const payload = uplinkJson(command, encryption, this.vin, unit);
    if (this.guard !== null && !this.guard.countPublish(payload.length)) {
      this.warn('closing: the vehicle kept publishing above the publish rate limit', {});
      this.end('protocol-error');
      return;
    }
    this.ctx.broker.publish(new Message(this.topics[index]!, payload, 1, false, null, 0, this.vin));
  }

  private answer(command: number, data: Buffer | null, flag: number = ResponseFlag.Success): void {
    this.answerWith(command, flag, this.vinBytes!, data);
  }

  private answerWith(command: number, flag: number, vin: Buffer, data: Buffer | null): void {
    this.send(encodeFrame(command, flag, vin, Encryption.None, data));
  }

  private now(): Gbt32960Time {
    return timeAt(Date.now(), this.ctx.limits.utcOffsetMinutes);
  }

  private send(frame: Buffer): void {
    if (this.state === VehicleState.Closed) return;
    if (!this.corked) {
      this.corked = true;
      this.link.cork();
      uncorkAtEndOfTurn(this);
    }
    this.link.write(frame);
  }

  uncorkTurn(): void {
    this.corked = false;
    this.link.uncork();
  }

  // --- downlink: SessionOwner and CommandWriter --------------------------------------------

  sendMessage(msg: Message, _qos: QoS, _retain: boolean, _packetId: number, _dup: boolean, _subIds: readonly number[] | null): boolean {
    if (this.state !== VehicleState.LoggedIn) return false;
    let command;
    try {
      command = buildDownlink(msg.payload, this.vin, this.now());
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      this.warn('downlink command refused', { topic: msg.topic, error: err.message });
      return false;
    }
    if (!this.commands.offer(command, this.ctx.broker.wheel.now)) {
      this.commandDropped(command.command, `${this.commands.queued} commands already wait (--gbt32960-max-queued-commands)`);
      return false;
    }
    this.schedule();
    return true;
  }

  writeCommand(frame: Buffer): void {
    this.send(frame);
  }

  commandDropped(command: number, why: string): void {
    this.ctx.broker.metrics.messagesDropped++;
    this.warn('downlink command dropped', { command: hexId(command), reason: why });
  }

  sendRelease(): void {
    /* QoS 0 only: never called */
  }

  kick(reason: number, reasonString: string): void {
    if (this.state === VehicleState.Closed) return;
    const why: DisconnectReason = reason === 0x8e ? 'takeover' : reason === 0x8b ? 'shutdown' : 'kicked';
    this.debug('closed by the broker', { reason: reasonString });
    this.end(why);
  }

  // --- deadlines ---------------------------------------------------------------------------

  /** Files the earliest of the idle timeout and the command resend with the wheel. */
  private schedule(): void {
    const next = this.nextDeadline();
    if (next === 0) return;
    if (this.wheelSlot === -1 || next < this.wheelDeadline) this.ctx.broker.wheel.schedule(this, next);
  }

  private nextDeadline(): number {
    const idle = this.ctx.limits.idleTimeoutMs;
    const idleAt = idle > 0 ? this.lastActivity + idle : 0;
    const commandAt = this.commands.deadline;
    if (idleAt === 0) return commandAt;
    return commandAt === 0 || idleAt < commandAt ? idleAt : commandAt;
  }

  onTimer(now: number): number {
    if (this.state === VehicleState.Closed) return 0;
    if (this.state !== VehicleState.LoggedIn) {
      if (now < this.loginDeadline) return this.loginDeadline;
      this.debug('closed: no vehicle login within the login timeout', { timeoutSeconds: this.ctx.limits.loginTimeoutMs / 1000 });
      this.end('connect-timeout');
      return 0;
    }
    const idle = this.ctx.limits.idleTimeoutMs;
    if (idle > 0 && now >= this.lastActivity + idle) {
      this.debug('closed: idle timeout', { timeoutSeconds: idle / 1000 });
      this.end('keepalive-timeout');
      return 0;
    }
    this.commands.onTimer(now);
    return this.nextDeadline();
  }

  // --- ending ------------------------------------------------------------------------------

  private protocolError(detail: string): void {
    if (this.state === VehicleState.Closed) return;
    this.ctx.broker.metrics.protocolErrors++;
    this.warn('protocol error, closing', { error: detail });
    this.end('protocol-error');
  }

  /** Closes after what was written is flushed. */
  end(reason: DisconnectReason): void {
    if (this.state === VehicleState.Closed) return;
    this.finish(reason);
    this.link.end();
  }

  private finish(reason: DisconnectReason): void {
    const wasLoggedIn = this.state === VehicleState.LoggedIn;
    this.state = VehicleState.Closed;
    this.ctx.broker.wheel.cancel(this);
    this.ctx.connections--;
    this.ctx.broker.metrics.connectionsClosed++;
    this.commands.clear();
    this.stream.clear();
    if (this.session !== null) {
      const session = this.session;
      this.session = null;
      this.ctx.broker.detach(session, this, null);
    }
    if (wasLoggedIn && this.info !== null) {
      this.debug('vehicle disconnected', { reason });
      this.ctx.events.disconnected(this.info, reason);
    }
  }

  private warn(msg: string, fields: Record<string, unknown>): void {
    const ctx = this.ctx;
    if (!ctx.logLimit.allow(this.link.remoteAddress)) return;
    ctx.log.warn(msg, { vin: this.vin === '' ? undefined : this.vin, address: this.link.remoteAddress, port: this.link.remotePort, ...fields });
  }

  private debug(msg: string, fields: Record<string, unknown>): void {
    const log = this.ctx.log;
    if (!log.enabled('debug')) return;
    log.debug(msg, { vin: this.vin, address: this.link.remoteAddress, port: this.link.remotePort, ...fields });
  }
}
