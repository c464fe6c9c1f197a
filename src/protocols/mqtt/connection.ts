/**
 * One MQTT network connection: framing (the scanner over each chunk, partial frames carried
 * over), dispatch to the packet handlers, the keep-alive, and the delivery side the core writes
 * PUBLISHes through. Fatal errors end here, in one place. The shell does the rest (pauses, fair
 * turns, corked writes, deadlines, closing).
 */
import { JunctionError } from '../../errors.js';
import type { Link } from '../../transports/link.js';
import { Delivered, type Delivery, type KickReason } from '../../core/session.js';
import type { BulkWireTarget } from '../../core/retained-bulk.js';
import { ConnectionShell, Pause, Phase } from '../../gateway/shell.js';
import type { Admission, GatewayContext } from '../../gateway/context.js';
import { PUBLISH_COST, TURN_BUDGET, takeLogin } from '../../gateway/turns.js';
import type { ConnectPacket, ProtocolVersion } from './codec/packets.js';
import { PacketType, ReasonCode } from './codec/constants.js';
import { SCAN_ERR_LENGTH, SCAN_ERR_TOO_LARGE, SCAN_FLAGS, SCAN_HEADER, SCAN_LENGTH, SCAN_OFFSET, SCAN_STRIDE, SCAN_TYPE } from './codec/scanner.js';
import { encodeAuth, encodeDisconnect } from './codec/encode.js';
import { dispatchPacket } from './handlers/index.js';
import { completeConnect, refuse } from './handlers/connect.js';
import { OutboundEncoder } from './outbound.js';
import { encodeAck } from './codec/encode-ack.js';
import { MqttWireTarget } from './bulk-target.js';
import type { MqttConfig } from './protocol.js';

const VERSION_NAMES = ['', '', '', '3.1', '3.1.1', '5'];

/** What an MQTT 5 client is told when the broker ends its connection. */
const KICK_CODES: Readonly<Record<KickReason, readonly [number, string]>> = {
  takeover: [ReasonCode.SessionTakenOver, 'session taken over'],
  shutdown: [ReasonCode.ServerShuttingDown, 'server shutting down'],
  kicked: [ReasonCode.AdministrativeAction, 'disconnected by the server'],
  // 0x87 as at CONNECT: the credentials no longer authorize this client (0xA0 is the server's own connect-time limit).
  expired: [ReasonCode.NotAuthorized, 'credentials expired'],
};

// One warning a second at most for slow consumers, whatever their number.
let lastSlowConsumerLog = 0;

// One scan result array for every connection (scanning never re-enters): a turn of PUBLISHes.
const SCAN_CAPACITY = TURN_BUDGET / PUBLISH_COST;
const scanOut = new Uint32Array(SCAN_HEADER + SCAN_STRIDE * SCAN_CAPACITY);
/** Set by handleRecords when it stopped after a CONNECT (read right after the call). */
let stoppedAtConnect = false;

export class MqttConnection extends ConnectionShell {
  readonly config: MqttConfig;
  version: ProtocolVersion = 4;
  cleanStart = true;
  /** Keep-alive in ms (0 = none); the deadline is 1.5x after the last packet [MQTT-3.1.2-22]. */
  keepAliveMs = 0;

  /** The client's limits (MQTT 5 CONNECT properties). */
  sendWindow = 65535;
  clientMaxPacketSize = 0;
  requestProblemInformation = true;
  /** Inbound QoS 1/2 PUBLISHes not yet acknowledged, against our Receive Maximum. */
  inboundUnacked = 0;
  /** Acks waiting for a store commit; later acks queue behind them to keep order. */
  pendingCommitAcks = 0;
  /** Inbound topic aliases (client -> broker), created on first use. */
  inAliases: Map<number, string> | null = null;
  /** Made on the first delivery (or MQTT 5 Topic Alias Maximum): most idle devices never need it. */
  #outbound: OutboundEncoder | null = null;
  /** MQTT 5 enhanced authentication in progress (the method's exchange); only AUTH is accepted meanwhile. */
  authState: unknown = null;
  /** The CONNECT being admitted, and whether its client id was assigned by us. */
  connectPacket: ConnectPacket | null = null;
  assignedId = false;

  /** What waits to be read: a partial frame, or the rest of a chunk while paused. */
  private pending: Buffer | null = null;

  constructor(link: Link, kit: GatewayContext, config: MqttConfig) {
    super(link, kit, config.connectTimeoutMs);
    this.config = config;
  }

  /** A getter, not a field: one string per class instead of a slot in every connection. */
  get protocolName(): string {
    return 'mqtt';
  }

  /** The PUBLISH encoder of this connection, made on first use. */
  get outbound(): OutboundEncoder {
    if (this.#outbound === null) this.#outbound = new OutboundEncoder(this);
    return this.#outbound;
  }

  protected get protocolVersion(): string {
    return VERSION_NAMES[this.version] ?? String(this.version);
  }

  protected override infoExtras(): { keepAlive: number; cleanStart: boolean } {
    return { keepAlive: this.keepAliveMs / 1000, cleanStart: this.cleanStart };
  }

  // --- framing -----------------------------------------------------------------------------

  protected receive(chunk: Buffer | null): void {
    let buf: Buffer;
    if (chunk === null) {
      if (this.pending === null) {
        this.frameNatively();
        return;
      }
      buf = this.pending;
      this.pending = null;
    } else {
      this.lastActivity = this.kit.wheel.now;
      buf = chunk;
      if (this.pending !== null) {
        buf = chunk.length === 0 ? this.pending : Buffer.concat([this.pending, chunk]);
        this.pending = null;
      }
    }
    this.consume(buf, 0);
    this.frameNatively();
  }

  /** Frames the transport found (the native TCP transport, once online): their records are used as they are. */
  protected override receiveFrames(chunk: Buffer, scan: Uint32Array, block: number): void {
    if (this.pending !== null) {
      // Bytes of its own come first (a turn's rest): the frames join them at a frame boundary.
      this.receive(chunk);
      return;
    }
    this.lastActivity = this.kit.wheel.now;
    const count = scan[block]!;
    const end = chunk.length;
    // Records come in blocks of a poll's size: the turn is checked every scanner batch, as in consume().
    for (let first = 0; first < count; first += SCAN_CAPACITY) {
      const next = this.handleRecords(chunk, end, scan, block / SCAN_STRIDE + first, Math.min(SCAN_CAPACITY, count - first));
      if (next < 0) return;
      if (next < end && this.turnOver) {
        this.pending = chunk.subarray(next);
        this.yieldTurn();
        return;
      }
    }
  }

  /** Asks the transport to find frames itself from now on (the native one can), once nothing of a frame is held here. */
  private frameNatively(): void {
    if (this.pending === null && this.phase === Phase.Online && !this.closed) this.link.frameMqtt?.(this.config.maxPacketSize, this.version === 5);
  }

  protected hold(chunk: Buffer): void {
    this.lastActivity = this.kit.wheel.now;
    // No copy: a rate-limited client pauses many times a second, and what waits is most of one read buffer anyway.
    this.pending = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
  }

  /** Scans and handles every whole packet in buf from start; keeps a partial tail. */
  private consume(buf: Buffer, start: number): void {
    const end = buf.length;
    // Before the client is in, its CONNECT (and AUTH) may not be larger than --max-connect-size.
    const limit = this.phase === Phase.Online ? this.config.maxPacketSize : this.connectLimit;
    while (start < end && this.pauses === 0 && !this.closed) {
      this.config.scan(buf, start, end, limit, this.version === 5, scanOut);
      const count = scanOut[0]!;
      const error = scanOut[2]!;
      const detail = scanOut[3]!;
      let next = scanOut[1]!;
      const handled = this.handleRecords(buf, end, scanOut, 0, count);
      if (handled < 0) return;
      // Stopped early at a CONNECT: it set the protocol version, so the rest is scanned again with it.
      const rescan = stoppedAtConnect;
      if (rescan) next = handled;
      if (!rescan && error !== 0) {
        if (error === SCAN_ERR_TOO_LARGE && this.phase !== Phase.Online) this.connectTooLarge(buf, next, end, detail);
        else this.scanError(error, detail);
        return;
      }
      if (next === start) break;
      start = next;
      if (rescan) continue;
      if (count < SCAN_CAPACITY) break;
      if (start < end && this.turnOver) {
        // A turn's work done and more waiting: give the other connections their turn first
        // (a 64 KiB chunk of small PUBLISHes would otherwise hold the loop for milliseconds).
        this.pending = buf.subarray(start);
        this.yieldTurn();
        return;
      }
    }
    if (start < end && !this.closed) {
      // Copy the partial frame so the chunk it came in can be freed.
      this.pending = Buffer.from(buf.subarray(start));
    }
  }

  /**
   * Dispatches `count` scanned packets of `buf`, records `first`.. of `scan`. Returns where the
   * next unhandled byte is, or -1 when reading stops here (closed, paused, or a login waiting for
   * the next pass; what is left is kept). After a CONNECT it returns at once with
   * `stoppedAtConnect` set.
   */
  private handleRecords(buf: Buffer, end: number, scan: Uint32Array, first: number, count: number): number {
    stoppedAtConnect = false;
    let next = 0;
    for (let i = first; i < first + count; i++) {
      const at = SCAN_HEADER + i * SCAN_STRIDE;
      const offset = scan[at + SCAN_OFFSET]!;
      const length = scan[at + SCAN_LENGTH]!;
      const type = scan[at + SCAN_TYPE]!;
      if (type === PacketType.CONNECT && this.phase === Phase.Connecting && !takeLogin(this.kit.options.maxLoginsPerTurn)) {
        // This pass's logins are spent: the CONNECT waits for the next pass, after the
        // established clients' reads (a storm must not hold the loop).
        this.pending = buf.subarray(offset);
        this.yieldTurn();
        return -1;
      }
      this.count(type === PacketType.PUBLISH ? PUBLISH_COST : 1);
      try {
        dispatchPacket(this, type, scan[at + SCAN_FLAGS]!, buf, offset, offset + length, scan, i);
      } catch (err) {
        this.fail(err);
        return -1;
      }
      if (this.closed) return -1;
      next = offset + length;
      if (this.pauses !== 0) {
        // A paused admission keeps a copy (the chunk is freed); a rate pause keeps a view.
        if (next < end) this.pending = (this.pauses & Pause.Admission) !== 0 ? Buffer.from(buf.subarray(next)) : buf.subarray(next);
        return -1;
      }
      if (type === PacketType.CONNECT) {
        stoppedAtConnect = true;
        return next;
      }
    }
    return next;
  }

  /** The smaller of --max-packet-size and --max-connect-size: what a packet may be before the client is in. */
  private get connectLimit(): number {
    return Math.min(this.config.maxPacketSize, this.kit.options.maxConnectSize);
  }

  /**
   * A packet before the client is in (its CONNECT) declares more than --max-connect-size: MQTT 5
   * gets CONNACK 0x95 naming the flag (the version is read from the bytes that arrived), older
   * clients are closed; nothing of it is kept.
   */
  private connectTooLarge(buf: Buffer, at: number, end: number, size: number): void {
    const limit = this.connectLimit;
    const flag = limit === this.config.maxPacketSize ? '--max-packet-size' : '--max-connect-size';
    const text = `${buf[at]! >> 4 === PacketType.CONNECT ? 'CONNECT' : 'packet'} of ${size} bytes exceeds ${flag} of ${limit} bytes before login`;
    this.closeReason = 'protocol-error';
    this.protocolViolation(text, { reason: '0x95' });
    if (this.phase === Phase.Connecting && this.connectPacket === null && connectLevel(buf, at, end) === 5) {
      this.version = 5;
      refuse(this, ReasonCode.PacketTooLarge, text);
      return;
    }
    this.end('protocol-error');
  }

  protected override loginBytesHeld(): number {
    return this.pending === null ? 0 : this.pending.length;
  }

  private scanError(error: number, detail: number): void {
    if (error === SCAN_ERR_TOO_LARGE) {
      this.protocolFailure(ReasonCode.PacketTooLarge, `packet of ${detail} bytes exceeds the maximum packet size of ${this.config.maxPacketSize} bytes`);
    } else if (error === SCAN_ERR_LENGTH) {
      this.protocolFailure(ReasonCode.Malformed, 'malformed remaining length (more than 4 bytes)');
    } else {
      this.protocolFailure(ReasonCode.Malformed, 'malformed PUBLISH (topic or packet identifier runs past the packet)');
    }
  }

  // --- login -------------------------------------------------------------------------------

  /** Asks the gateway to admit the client of this CONNECT (`decided` when enhanced authentication already said yes). */
  login(packet: ConnectPacket, assigned: boolean, decided?: { ok: true; reason: 0 }): void {
    this.connectPacket = packet;
    this.assignedId = assigned;
    const request = { clientId: this.clientId, username: packet.username, password: packet.password, protocol: `mqtt/${packet.protocolVersion}` };
    this.admit(decided === undefined ? request : { ...request, decided });
  }

  protected admitted(answer: Admission): void {
    const packet = this.connectPacket!;
    this.connectPacket = null;
    completeConnect(this, packet, answer, this.assignedId);
  }

  /** CONNACK was sent: the client is in. */
  online(): void {
    this.goOnline();
  }

  /** Whether MQTT 5 enhanced authentication is under way (only AUTH is accepted). */
  get inEnhancedAuth(): boolean {
    return this.authState !== null && this.phase !== Phase.Online;
  }

  // --- deliveries --------------------------------------------------------------------------

  deliver(d: Delivery): Delivered {
    if (this.phase !== Phase.Online) return Delivered.Refused;
    if (d.qos === 0 && this.link.bufferedAmount > this.kit.maxSocketBuffer) {
      // A client that stops reading loses QoS 0 first; QoS 1/2 wait in the session's bounded queue.
      const now = this.kit.wheel.now;
      if (now - lastSlowConsumerLog >= 1000) {
        lastSlowConsumerLog = now;
        this.kit.log.warn('QoS 0 message dropped: the client is not reading (--max-socket-buffer)', {
          clientId: this.clientId,
          address: this.link.remoteAddress,
          bufferedBytes: this.link.bufferedAmount,
          limit: this.kit.maxSocketBuffer,
          droppedTotal: this.kit.metrics.slowConsumerDrops + 1,
        });
      }
      return Delivered.SocketBuffer;
    }
    const packet = this.outbound.publish(d.msg, d.qos, d.retain, d.id, d.redelivered, d.subscriptionIds);
    if (packet === null) return Delivered.TooLarge;
    this.write(packet);
    return Delivered.Written;
  }

  /** QoS 2: resends PUBREL for a delivery whose PUBREC arrived before the connection dropped. */
  release(id: number): void {
    this.write(encodeAck(PacketType.PUBREL, this.version, id, 0));
  }

  /** SessionOwner capability: ready-made PUBLISH packets for big retained deliveries. */
  bulkTarget(): BulkWireTarget {
    return new MqttWireTarget(this);
  }

  // --- keep-alive and the connect timeout --------------------------------------------------

  protected tick(now: number): number {
    if (this.keepAliveMs === 0) return 0;
    const deadline = this.lastActivity + this.keepAliveMs * 1.5;
    if (now < deadline) return deadline;
    this.closeReason = 'keepalive-timeout';
    this.logDebug('closed: keep-alive timeout', { keepAliveSeconds: this.keepAliveMs / 1000 });
    this.disconnectWith(ReasonCode.KeepAliveTimeout, 'keep-alive timeout');
    return 0;
  }

  protected override loginTimedOut(): void {
    this.logDebug('closed: no CONNECT within the connect timeout', { timeoutSeconds: this.config.connectTimeoutMs / 1000 });
    this.destroy('connect-timeout');
  }

  // --- ending ------------------------------------------------------------------------------

  protected override farewell(reason: KickReason): void {
    const [code, text] = KICK_CODES[reason];
    this.sendDisconnect(code, text);
  }

  /** A thrown error while handling a packet: protocol errors end the connection with their reason. */
  fail(err: unknown): void {
    if (err instanceof JunctionError) {
      const topicInvalid = (err as { topicInvalid?: boolean }).topicInvalid === true;
      this.protocolFailure(topicInvalid ? ReasonCode.TopicNameInvalid : err.reason, err.message);
      return;
    }
    this.kit.log.error('internal error handling a packet', { clientId: this.clientId, address: this.link.remoteAddress, error: err });
    this.protocolFailure(ReasonCode.UnspecifiedError, 'internal error');
  }

  /** Ends the connection for a protocol violation: counted, logged at debug, DISCONNECT in 5.0. */
  protocolFailure(reason: number, message: string): void {
    if (this.closed) return;
    this.closeReason = 'protocol-error';
    this.protocolViolation(message, { reason: '0x' + reason.toString(16) });
    this.disconnectWith(reason, message);
  }

  /** Sends DISCONNECT (5.0, once connected) and closes, for the current close reason. */
  disconnectWith(reason: number, reasonString: string): void {
    if (this.closed) return;
    this.sendDisconnect(reason, reasonString);
    this.end(this.closeReason);
  }

  private sendDisconnect(reason: number, reasonString: string): void {
    if (this.version !== 5 || this.phase !== Phase.Online) return;
    let packet = encodeDisconnect(reason, this.requestProblemInformation && reasonString !== '' ? { reasonString } : {});
    // The Reason String goes first when the client's Maximum Packet Size is smaller [MQTT-3.14.2-3].
    if (!this.fitsClient(packet)) packet = encodeDisconnect(reason);
    if (this.fitsClient(packet)) this.write(packet);
  }

  /** Whether `packet` fits the Maximum Packet Size the client announced [MQTT-3.1.2-24]. */
  fitsClient(packet: Buffer): boolean {
    return this.clientMaxPacketSize === 0 || packet.length <= this.clientMaxPacketSize;
  }

  /** Closes after what was written is flushed (a DISCONNECT from the client, a refusal). */
  close(reason: (typeof this)['closeReason'], publishWill: boolean): void {
    if (this.closed) return;
    if (!publishWill) this.will = null;
    this.end(reason);
  }

  /** MQTT 5 enhanced authentication: AUTH 0x18 with the method's data. */
  sendAuthContinue(method: string, data: Buffer | undefined): void {
    const properties = data === undefined ? { authenticationMethod: method } : { authenticationMethod: method, authenticationData: data };
    this.write(encodeAuth(ReasonCode.ContinueAuthentication, properties));
  }

  protected override released(): void {
    this.pending = null;
  }
}

/** The protocol level of a (partial) CONNECT at `at`, or 0 when it has not arrived. */
function connectLevel(buf: Buffer, at: number, end: number): number {
  if (at >= end || buf[at]! >> 4 !== PacketType.CONNECT) return 0;
  let i = at + 1;
  while (i < end && i < at + 4 && (buf[i]! & 0x80) !== 0) i++;
  i++;
  if (i + 2 > end) return 0;
  const level = i + 2 + buf.readUInt16BE(i);
  return level < end ? buf[level]! : 0;
}
