/**
 * One vehicle (or platform) connection: the login gate and its admission, uplink publishing,
 * and downlink commands through the retrying command window. The shell does the rest (reading,
 * pauses, turns, deadlines, closing). Phases: Connecting (waiting for the vehicle login) ->
 * Authenticating -> Online -> Closed.
 */
import type { Link } from '../../transports/link.js';
import { Delivered, type Delivery } from '../../core/session.js';
import { Message } from '../../core/message.js';
import type { DisconnectReason } from '../../core/events.js';
import { ConnectionShell, Phase } from '../../gateway/shell.js';
import type { Admission, GatewayContext } from '../../gateway/context.js';
import { Refusal } from '../../gateway/refusal.js';
import { CommandWindow, WindowedCommand, type CommandDropReason, type CommandSink } from '../../gateway/command-window.js';
import { PUBLISH_COST } from '../../gateway/turns.js';
import { Command, Encryption, ResponseFlag, hexId } from './codec/constants.js';
import { encodeFrame } from './codec/frame.js';
import { FrameStream, type FrameSink } from './codec/stream.js';
import { timeAt, type Gbt32960Time } from './codec/reader.js';
import { restamp } from './codec/answers.js';
import { buildDownlink, CommandError } from './codec/downlink.js';
import { UPSTREAM_SUFFIXES, upstreamIndex, uplinkData, uplinkJson } from './uplink.js';
import { handleFrame, isLoginFrame } from './handlers/index.js';
import type { Gbt32960Config } from './protocol.js';

/** VINs become topic levels: printable ASCII without MQTT's separators and wildcards. */
const VIN_PATTERN = /^[!"$-*,-.0-~]{17}$/;

/** A downlink command: the command byte its answer carries, and the message it came from. */
export class VehicleCommand extends WindowedCommand {
  constructor(
    bytes: Buffer,
    readonly command: number,
    readonly msg: Message,
  ) {
    super(bytes, true);
  }
}

export class VehicleConnection extends ConnectionShell implements FrameSink, CommandSink<VehicleCommand> {
  readonly protocolName = 'gbt32960';
  /** QoS 0 deliveries only: the command window holds what is owed. */
  readonly sendWindow = 1;
  /** SessionOwner capability: a point-to-point message stands for a command on this topic. */
  downlinkTopic: string | null = null;
  /** False when the device may not read its downlink topic: no command reaches it, point-to-point ones neither. */
  commandsAllowed = false;
  readonly config: Gbt32960Config;
  vinBytes: Buffer | null = null;
  readonly commands: CommandWindow<VehicleCommand>;

  private readonly stream: FrameStream;
  private topics: string[] = [];
  /** Upstream topics already reported as not authorized (a bit per UPSTREAM_SUFFIXES index). */
  private warnedTopics = 0;
  private loginEncryption = Encryption.None as number;
  private loginData: Buffer | null = null;
  /**
   * A vehicle login past this pass's login budget (copied: the chunk it came in is freed):
   * handled first when the connection's turn comes again; what followed waits in the stream.
   */
  private waitingLogin: Buffer | null = null;

  constructor(link: Link, kit: GatewayContext, config: Gbt32960Config) {
    super(link, kit, config.loginTimeoutMs);
    this.config = config;
    // Until the vehicle is in, its login frame is bounded by --max-connect-size too.
    this.stream = new FrameStream(Math.min(config.maxFrameSize, kit.options.maxConnectSize));
    this.commands = new CommandWindow<VehicleCommand>({ maxInflight: 1, maxQueued: config.maxQueuedCommands, retryIntervalMs: config.retryIntervalMs, retries: config.maxRetries }, this);
  }

  protected get protocolVersion(): string {
    return '2016';
  }

  // --- reading -----------------------------------------------------------------------------

  protected receive(chunk: Buffer | null): void {
    if (chunk !== null) {
      this.stream.feed(chunk, this);
      return;
    }
    const login = this.waitingLogin;
    if (login !== null) {
      // Still past the budget: it waits another pass. What followed stays in the stream until
      // the login went through.
      if (!this.takeLoginTurn()) return;
      this.waitingLogin = null;
      if (!this.handle(login, 0, login.length)) return;
    }
    this.stream.resume(this);
  }

  protected hold(chunk: Buffer): void {
    this.stream.hold(chunk);
    if (this.stream.heldBytes > 2 * this.config.maxFrameSize) this.protocolError('more than two frames sent while reading was paused (the login being authenticated)');
  }

  protected override loginBytesHeld(): number {
    return this.stream.heldBytes + (this.waitingLogin === null ? 0 : this.waitingLogin.length);
  }

  onFrame(buf: Buffer, start: number, end: number): boolean {
    if (this.phase === Phase.Connecting && isLoginFrame(buf, start) && !this.takeLoginTurn()) {
      // This pass's logins are spent: the login waits for the next pass, after the established
      // vehicles' reads (a storm must not hold the loop).
      this.waitingLogin = Buffer.from(buf.subarray(start, end));
      return false;
    }
    return this.handle(buf, start, end);
  }

  /** Handles one whole frame; false when reading must stop (closed, paused, turn over). */
  private handle(buf: Buffer, start: number, end: number): boolean {
    // Only whole frames count as life: a stream of garbage does not hold the connection open.
    this.touch();
    const published = handleFrame(this, buf, start, end);
    return this.proceed(published ? PUBLISH_COST : 1);
  }

  onSkipped(bytes: number): void {
    this.warn('bytes before "##" skipped', { bytes });
  }

  onBadFrame(error: string): void {
    this.kit.metrics.protocolErrors++;
    this.warn('bad frame skipped, resynchronising on the next "##"', { error });
  }

  // --- login -------------------------------------------------------------------------------

  /** A vehicle login before any other frame: the VIN names the client; admission decides. */
  login(vin: string, encryption: number, data: Buffer): void {
    if (!VIN_PATTERN.test(vin)) {
      this.answerWith(Command.VehicleLogin, ResponseFlag.Error, Buffer.from(vin, 'latin1'), null);
      this.protocolError(`VIN ${JSON.stringify(vin)} is not 17 printable characters without "/", "+" or "#"`);
      return;
    }
    this.clientId = vin;
    this.vinBytes = Buffer.from(vin, 'latin1');
    this.loginData = Buffer.from(data);
    this.loginEncryption = encryption;
    this.admit({ clientId: vin, username: vin, password: null, protocol: 'gbt32960/2016' });
  }

  protected admitted(answer: Admission): void {
    const loginData = this.loginData!;
    this.loginData = null;
    if (!answer.ok) {
      this.answer(Command.VehicleLogin, restamp(this.config.aes, this.now(), this.loginEncryption, loginData), ResponseFlag.Error);
      this.warn('vehicle login refused', { reason: answer.refusal, detail: answer.detail });
      this.end('auth-failure');
      return;
    }
    const client = (this.client = answer.client);
    const vin = this.clientId;
    client.attach(true, 0);
    this.topics = UPSTREAM_SUFFIXES.map((suffix) => `gbt32960/${vin}/upstream/${suffix}`);
    const downlink = `gbt32960/${vin}/dnstream`;
    // QoS 0 and no retained messages: a retained command must not fire again at every login.
    const sub = client.subscribe({ filter: downlink, qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 2, subscriptionId: 0 });
    // Point-to-point messages stand for commands on this topic, whatever the device may read.
    this.downlinkTopic = downlink;
    this.commandsAllowed = sub.refusal === Refusal.None;
    if (!this.commandsAllowed) this.warn('not authorized to subscribe to its downlink topic; commands will not reach it', { topic: downlink, detail: client.refusalDetail });
    this.publish(Command.VehicleLogin, ResponseFlag.Command, this.loginEncryption, loginData);
    this.answer(Command.VehicleLogin, restamp(this.config.aes, this.now(), this.loginEncryption, loginData));
    if (this.phase === Phase.Closed) return;
    this.stream.limit(this.config.maxFrameSize);
    this.goOnline();
    this.schedule(this.nextDeadline());
  }

  // --- uplink and answers ------------------------------------------------------------------

  /** Publishes a frame's data unit as JSON on its upstream topic. */
  publish(command: number, response: number, encryption: number, data: Buffer): void {
    const index = upstreamIndex(command, response);
    const unit = uplinkData(command, encryption, data, this.config.aes, this.config.scaled);
    if (unit['Error'] !== undefined) this.warn('frame decoded with an error (published with it)', { command: hexId(command), error: unit['Error'] });
    const topic = this.topics[index]!;
    const client = this.client!;
    const out = client.publish(new Message(topic, uplinkJson(command, encryption, this.clientId, unit), 1, false, null, 0, this.clientId));
    if (out.refusal === Refusal.QuotaExceeded) {
      this.warn('closing: the vehicle kept publishing above the publish rate limit', {});
      this.end('quota-exceeded');
    } else if (out.refusal !== Refusal.None && (this.warnedTopics & (1 << index)) === 0) {
      this.warnedTopics |= 1 << index;
      this.warn('not authorized to publish; its frames on this topic are dropped', { topic, detail: client.refusalDetail });
    }
  }

  /** Answers a command of the vehicle (success unless `flag` says otherwise). */
  answer(command: number, data: Buffer | null, flag: number = ResponseFlag.Success): void {
    this.answerWith(command, flag, this.vinBytes!, data);
  }

  private answerWith(command: number, flag: number, vin: Buffer, data: Buffer | null): void {
    this.write(encodeFrame(command, flag, vin, Encryption.None, data));
  }

  /** Now, in the configured time zone. */
  now(): Gbt32960Time {
    return timeAt(Date.now(), this.config.utcOffsetMinutes);
  }

  // --- downlink ----------------------------------------------------------------------------

  deliver(d: Delivery): Delivered {
    if (this.phase !== Phase.Online || !this.commandsAllowed) return Delivered.Refused;
    let built: ReturnType<typeof buildDownlink>;
    try {
      built = buildDownlink(d.msg.payload, this.clientId, this.now());
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      this.warn('downlink command refused', { topic: d.msg.topic, error: err.message });
      return Delivered.Refused;
    }
    if (!this.commands.submit(new VehicleCommand(built.frame, built.command, d.msg), this.kit.wheel.now)) return Delivered.Refused;
    this.schedule(this.nextDeadline());
    return Delivered.Written;
  }

  /** A command was answered; the next one (if any) went out with its own resend deadline. */
  onCommandSettled(): void {
    this.schedule(this.nextDeadline());
  }

  writeCommand(frame: Buffer): void {
    this.write(frame);
  }

  commandDropped(cmd: VehicleCommand, reason: CommandDropReason): void {
    this.warn('downlink command dropped', { command: hexId(cmd.command), reason, maxQueuedCommands: this.config.maxQueuedCommands });
    // A full queue refuses the delivery itself (counted by the core); these were taken first.
    if (reason !== 'queue-full') this.client?.dropped(cmd.msg, 'unanswered');
  }

  // --- deadlines and ending ----------------------------------------------------------------

  protected tick(now: number): number {
    const idle = this.config.idleTimeoutMs;
    if (idle > 0 && now >= this.lastActivity + idle) {
      this.logDebug('closed: idle timeout', { timeoutSeconds: idle / 1000 });
      this.end('keepalive-timeout');
      return 0;
    }
    this.commands.onTimer(now);
    return this.nextDeadline();
  }

  /** The earliest of the idle timeout and the command resend (0 = none). */
  private nextDeadline(): number {
    const idle = this.config.idleTimeoutMs;
    const idleAt = idle > 0 ? this.lastActivity + idle : 0;
    const commandAt = this.commands.nextDeadline();
    if (idleAt === 0) return commandAt;
    return commandAt === 0 || idleAt < commandAt ? idleAt : commandAt;
  }

  protected override loginTimedOut(): void {
    this.logDebug('closed: no vehicle login within the login timeout', { timeoutSeconds: this.config.loginTimeoutMs / 1000 });
    this.end('connect-timeout');
  }

  /** Ends the connection for a protocol violation (logged, counted). */
  protocolError(detail: string): void {
    if (this.phase === Phase.Closed) return;
    this.kit.metrics.protocolErrors++;
    this.warn('protocol error, closing', { error: detail });
    this.end('protocol-error');
  }

  protected override released(_reason: DisconnectReason): void {
    this.waitingLogin = null;
    this.commands.dropAll();
    this.stream.clear();
  }
}
