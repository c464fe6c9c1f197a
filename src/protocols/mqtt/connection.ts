/**
 * One MQTT network connection: dispatch to the packet handlers, login, the keep-alive, and the
 * delivery side the core writes PUBLISHes through. Fatal errors end here, in one place. Framing
 * is frame-reader.ts; the shell does the rest (pauses, fair turns, corked writes, deadlines,
 * closing).
 */
import { JunctionError } from '../../errors.js';
import type { Link } from '../../transports/link.js';
import { Delivered, type Delivery, type KickReason } from '../../core/session.js';
import type { BulkWireTarget } from '../../core/retained-bulk.js';
import { Phase } from '../../gateway/shell.js';
import type { Admission, GatewayContext } from '../../gateway/context.js';
import type { ConnectPacket } from './codec/packets.js';
import { PacketType, ReasonCode } from './codec/constants.js';
import { SCAN_ERR_LENGTH, SCAN_ERR_TOO_LARGE } from './codec/scanner.js';
import { encodeAuth, encodeDisconnect } from './codec/encode.js';
import { dispatchPacket } from './handlers/index.js';
import { completeConnect, refuse } from './handlers/connect.js';
import { OutboundEncoder } from './outbound.js';
import { encodeAck } from './codec/encode-ack.js';
import { MqttWireTarget } from './bulk-target.js';
import type { MqttConfig } from './protocol.js';
import { MqttFrameReader } from './frame-reader.js';

const VERSION_NAMES = ['', '', '', '3.1', '3.1.1', '5'];
/** The protocol a session is stored with, by level: shared strings, not one made per login. */
const PROTOCOL_NAMES = ['', '', '', 'mqtt/3', 'mqtt/4', 'mqtt/5'];

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

// Bits of MqttConnection.#flags: booleans share one small integer (each field costs 8 bytes per connection).
const CLEAN_START = 1;
const PROBLEM_INFORMATION = 2;
const ASSIGNED_ID = 4;

/** What an MQTT 5 client may announce or set up (CONNECT properties, topic aliases). */
class ClientLimits {
  /** Receive Maximum: its unacknowledged QoS 1/2 deliveries at most. */
  sendWindow = 65535;
  /** Maximum Packet Size (0: none announced). */
  clientMaxPacketSize = 0;
  /** Inbound topic aliases (client -> broker). */
  inAliases: Map<number, string> | null = null;
}

/** What only a login in progress needs: one object while it lasts, one field in every connection. */
interface LoginState {
  /** The CONNECT being admitted. */
  packet: ConnectPacket | null;
  /** MQTT 5 enhanced authentication in progress (the method's exchange). */
  auth: unknown;
}

export class MqttConnection extends MqttFrameReader {
  #flags = CLEAN_START | PROBLEM_INFORMATION;
  /** Keep-alive in ms (0 = none); the deadline is 1.5x after the last packet [MQTT-3.1.2-22]. */
  keepAliveMs = 0;

  /** Inbound QoS 1/2 PUBLISHes not yet acknowledged, against our Receive Maximum. */
  inboundUnacked = 0;
  /** Acks waiting for a store commit; later acks queue behind them to keep order. */
  pendingCommitAcks = 0;
  /** The client's MQTT 5 limits and inbound aliases, made when it sets one: most clients set none. */
  #v5: ClientLimits | null = null;
  /** Made on the first delivery (or MQTT 5 Topic Alias Maximum): most idle devices never need it. */
  #outbound: OutboundEncoder | null = null;
  #login: LoginState | null = null;

  constructor(link: Link, kit: GatewayContext, config: MqttConfig) {
    super(link, kit, config);
  }

  protected dispatch(type: number, flags: number, buf: Buffer, start: number, end: number, scan: Uint32Array, index: number): void {
    dispatchPacket(this, type, flags, buf, start, end, scan, index);
  }

  protected scanFailed(error: number, detail: number, buf: Buffer, at: number, end: number): void {
    if (error === SCAN_ERR_TOO_LARGE && this.phase !== Phase.Online) this.connectTooLarge(buf, at, end, detail);
    else this.scanError(error, detail);
  }

  /** The client's Receive Maximum (65535 unless it announced one). */
  get sendWindow(): number {
    return this.#v5?.sendWindow ?? 65535;
  }
  set sendWindow(n: number) {
    (this.#v5 ??= new ClientLimits()).sendWindow = n;
  }

  /** The client's Maximum Packet Size (0: none announced) [MQTT-3.1.2-24]. */
  get clientMaxPacketSize(): number {
    return this.#v5?.clientMaxPacketSize ?? 0;
  }
  set clientMaxPacketSize(n: number) {
    (this.#v5 ??= new ClientLimits()).clientMaxPacketSize = n;
  }

  /** Inbound topic aliases (client -> broker), null until the client sets one. */
  get inAliases(): Map<number, string> | null {
    return this.#v5?.inAliases ?? null;
  }
  set inAliases(aliases: Map<number, string> | null) {
    (this.#v5 ??= new ClientLimits()).inAliases = aliases;
  }

  /** Clean Start (Clean Session in 3.1.1) of the CONNECT. */
  get cleanStart(): boolean {
    return (this.#flags & CLEAN_START) !== 0;
  }
  set cleanStart(on: boolean) {
    this.#flags = on ? this.#flags | CLEAN_START : this.#flags & ~CLEAN_START;
  }

  /** MQTT 5 Request Problem Information: reason strings only when the client wants them. */
  get requestProblemInformation(): boolean {
    return (this.#flags & PROBLEM_INFORMATION) !== 0;
  }
  set requestProblemInformation(on: boolean) {
    this.#flags = on ? this.#flags | PROBLEM_INFORMATION : this.#flags & ~PROBLEM_INFORMATION;
  }

  /** Whether the client id was assigned by us (an empty one in the CONNECT). */
  get assignedId(): boolean {
    return (this.#flags & ASSIGNED_ID) !== 0;
  }
  set assignedId(on: boolean) {
    this.#flags = on ? this.#flags | ASSIGNED_ID : this.#flags & ~ASSIGNED_ID;
  }

  /** The CONNECT being admitted (null before it and once the client is in). */
  get connectPacket(): ConnectPacket | null {
    return this.#login?.packet ?? null;
  }
  set connectPacket(packet: ConnectPacket | null) {
    this.setLogin(packet, this.#login?.auth ?? null);
  }

  /** MQTT 5 enhanced authentication in progress (the method's exchange); only AUTH is accepted meanwhile. */
  get authState(): unknown {
    return this.#login?.auth ?? null;
  }
  set authState(state: unknown) {
    this.setLogin(this.#login?.packet ?? null, state);
  }

  /** Keeps the login's state in one object while there is any, none after. */
  private setLogin(packet: ConnectPacket | null, auth: unknown): void {
    if (packet === null && auth === null) this.#login = null;
    else if (this.#login === null) this.#login = { packet, auth };
    else {
      this.#login.packet = packet;
      this.#login.auth = auth;
    }
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
    const request = { clientId: this.clientId, username: packet.username, password: packet.password, protocol: PROTOCOL_NAMES[packet.protocolVersion]! };
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
