/**
 * One MQTT network connection: framing (scanner over each chunk, partial frames carried over),
 * the CONNECT gate, dispatch to the packet handlers, the keep-alive deadline, and the
 * SessionOwner side the core delivers through. Fatal errors end here, in one place.
 */
import { JunctionError } from '../../errors.js';
import type { Link, LinkHandler } from '../../transports/link.js';
import { uncorkAtEndOfTurn, type TurnCorked } from '../../transports/cork-batch.js';
import type { Session, SessionOwner } from '../../core/session.js';
import type { Message, QoS } from '../../core/message.js';
import type { WheelItem } from '../../core/timer-wheel.js';
import { RingQueue } from '../../core/ring-queue.js';
import type { Will } from '../../core/will.js';
import type { ClientInfo, DisconnectReason } from '../../core/events.js';
import type { ClientGuard } from '../../core/auth.js';
import type { MqttContext } from './context.js';
import type { ProtocolVersion } from './packets.js';
import { PacketType, ReasonCode } from './constants.js';
import {
  SCAN_ERR_LENGTH,
  SCAN_ERR_TOO_LARGE,
  SCAN_HEADER,
  SCAN_LENGTH,
  SCAN_OFFSET,
  SCAN_STRIDE,
  SCAN_FLAGS,
  SCAN_TYPE,
} from './codec/scanner.js';
import { encodeAuth, encodeDisconnect } from './codec/encode.js';
import { dispatchPacket } from './handlers/index.js';
import { OutboundEncoder } from './outbound.js';

export const enum ConnState {
  AwaitingConnect = 0,
  Authenticating = 1,
  Connected = 2,
  Closed = 3,
  /** MQTT 5 enhanced authentication: only AUTH packets until it ends */
  EnhancedAuth = 4,
}

/** Why a connection ended, for logs and disconnect events. */
export type CloseReason = DisconnectReason;

const VERSION_NAMES = ['', '', '', '3.1', '3.1.1', '5'];

// One warning a second at most for slow consumers, whatever their number.
let lastSlowConsumerLog = 0;

/**
 * Work one connection may do before yielding the event loop to the others, in units: a PUBLISH
 * costs PUBLISH_COST, any other packet 1. With eight clients flooding, a quiet client's packet
 * waits behind at most 8 x 64 PUBLISHes (~1 ms); a consumer's acks, which drain the queues
 * everyone else fills, go four times as far.
 */
const TURN_BUDGET = 256;
const PUBLISH_COST = 4;
// One scan result array for every connection (scanning never re-enters): a turn of PUBLISHes.
const SCAN_CAPACITY = TURN_BUDGET / PUBLISH_COST;
/** Work done in all by the connections continued in one check phase. */
const CHECK_BUDGET = 4 * TURN_BUDGET;
const scanOut = new Uint32Array(SCAN_HEADER + SCAN_STRIDE * SCAN_CAPACITY);

/** Reasons reading is stopped: the publish-rate guard, or a yielded turn. */
const PAUSE_GUARD = 1;
const PAUSE_TURN = 2;

// Connections waiting for a turn (they yielded, or their publish-rate pause ended), continued
// in the check phase. One check phase handles at most CHECK_BUDGET packets in all, however many
// connections wait: eight flooding clients resumed together would otherwise hold the loop for
// eight turns in a row, and a quiet client's packet would wait behind all of them.
const waiting = new RingQueue<MqttConnection>();
let turnScheduled = false;
/** Work units (see TURN_BUDGET) dispatched since the process started: turns are differences. */
let dispatched = 0;

function continueWaiting(): void {
  turnScheduled = false;
  const start = dispatched;
  let conn: MqttConnection | undefined;
  while (dispatched - start < CHECK_BUDGET && (conn = waiting.shift()) !== undefined) conn.continueTurn();
  if (waiting.length > 0) scheduleTurns();
}

function scheduleTurns(): void {
  if (!turnScheduled) {
    turnScheduled = true;
    setImmediate(continueWaiting);
  }
}

function waitForTurn(conn: MqttConnection): void {
  waiting.push(conn);
  scheduleTurns();
}

export class MqttConnection implements LinkHandler, SessionOwner, WheelItem, TurnCorked {
  readonly link: Link;
  readonly ctx: MqttContext;
  state = ConnState.AwaitingConnect;
  version: ProtocolVersion = 4;
  clientId = '';
  username: string | null = null;
  session: Session | null = null;
  will: Will | null = null;
  closeReason: CloseReason = 'connection-lost';
  cleanStart = true;

  /** Keep-alive in ms (0 = none); deadline is 1.5x after the last packet [MQTT-3.1.2-22]. */
  keepAliveMs = 0;
  lastActivity: number;
  wheelSlot = -1;
  wheelDeadline = 0;

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
  readonly outbound: OutboundEncoder;
  /** Enhanced authentication exchange in progress (method state). */
  authState: unknown = null;
  /** Cached topic decisions and the publish pace of this client; null without a policy. */
  guard: ClientGuard | null = null;
  /** Why reading is stopped (PAUSE_* bits); the rest of the chunk waits in `pending`. */
  private pauses = 0;

  private pending: Buffer | null = null;
  private corked = false;

  constructor(link: Link, ctx: MqttContext) {
    this.link = link;
    this.ctx = ctx;
    this.outbound = new OutboundEncoder(this);
    const wheel = ctx.broker.wheel;
    this.lastActivity = wheel.now;
    wheel.schedule(this, wheel.now + ctx.limits.connectTimeout * 1000);
  }

  // --- LinkHandler -------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.state === ConnState.Closed) return;
    this.lastActivity = this.ctx.broker.wheel.now;
    let buf = chunk;
    if (this.pending !== null) {
      buf = chunk.length === 0 ? this.pending : Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    if (this.state === ConnState.Authenticating || this.pauses !== 0) {
      this.pending = buf;
      return;
    }
    this.consume(buf, 0);
  }

  /** Stops handling packets at once (publish-rate guard); bytes already read wait. */
  pause(): void {
    this.pauseFor(PAUSE_GUARD);
  }

  /** Handles what waited (in its turn), then reads again (unless paused for another reason). */
  resume(): void {
    if ((this.pauses & PAUSE_GUARD) === 0) return;
    if (this.pending !== null && (this.pauses & PAUSE_TURN) === 0) {
      // Rate windows of many clients end on the same tick: queue for a turn instead of
      // handling every waiting chunk inside that one timer callback.
      this.pauses |= PAUSE_TURN;
      waitForTurn(this);
    }
    this.resumeFrom(PAUSE_GUARD);
  }

  /** The event loop came round again after this connection yielded its turn. */
  continueTurn(): void {
    this.resumeFrom(PAUSE_TURN);
  }

  private pauseFor(reason: number): void {
    if (this.pauses === 0) this.link.pause();
    this.pauses |= reason;
  }

  private resumeFrom(reason: number): void {
    if ((this.pauses & reason) === 0) return;
    this.pauses &= ~reason;
    if (this.pauses !== 0) return;
    const rest = this.pending;
    this.pending = null;
    if (rest !== null && this.state === ConnState.Connected) this.consume(rest, 0);
    if (this.pauses === 0) this.link.resume();
  }

  onDrain(): void {
    /* backpressure on slow consumers arrives with the reliability work */
  }

  onClose(): void {
    if (this.state === ConnState.Closed) return;
    this.finish(this.closeReason);
  }

  // --- framing -----------------------------------------------------------------------------

  /** Scans and handles every whole packet in buf from start; keeps a partial tail. */
  private consume(buf: Buffer, start: number): void {
    const end = buf.length;
    const limit = this.ctx.limits.maxPacketSize;
    const turnStart = dispatched;
    while (start < end && this.state !== ConnState.Closed && this.state !== ConnState.Authenticating) {
      const before = this.state;
      this.ctx.scan(buf, start, end, limit, this.version === 5, scanOut);
      const count = scanOut[0]!;
      const error = scanOut[2]!;
      const detail = scanOut[3]!;
      let next = scanOut[1]!;
      for (let i = 0; i < count; i++) {
        const at = SCAN_HEADER + i * SCAN_STRIDE;
        const offset = scanOut[at + SCAN_OFFSET]!;
        const length = scanOut[at + SCAN_LENGTH]!;
        const type = scanOut[at + SCAN_TYPE]!;
        dispatched += type === PacketType.PUBLISH ? PUBLISH_COST : 1;
        try {
          dispatchPacket(this, type, scanOut[at + SCAN_FLAGS]!, buf, offset, offset + length, scanOut, i);
        } catch (err) {
          this.fail(err);
          return;
        }
        const now = this.state as ConnState;
        if (now === ConnState.Closed) return;
        if (this.pauses !== 0) {
          const rest = offset + length;
          // No copy: a rate-limited client pauses many times a second, and what waits is most
          // of one read buffer anyway.
          if (rest < end) this.pending = buf.subarray(rest);
          return;
        }
        if (now !== before) {
          // CONNECT changed the version (or auth went async): rescan the rest with it.
          next = offset + length;
          if (now === ConnState.Authenticating) {
            if (next < end) this.pending = Buffer.from(buf.subarray(next));
            return;
          }
          break;
        }
      }
      if (this.state === before && error !== 0) {
        this.scanError(error, detail);
        return;
      }
      if (next === start) break;
      start = next;
      if (this.state === before && count < SCAN_CAPACITY) break;
      if (this.state === before && start < end && dispatched - turnStart >= TURN_BUDGET) {
        // A turn's work done and more waiting: give the other connections their turn first
        // (a 64 KiB chunk of small PUBLISHes would otherwise hold the loop for milliseconds).
        this.pending = buf.subarray(start);
        this.pauseFor(PAUSE_TURN);
        waitForTurn(this);
        return;
      }
    }
    if (start < end && this.state !== ConnState.Closed) {
      // Copy the partial frame so the chunk it came in can be freed.
      this.pending = Buffer.from(buf.subarray(start));
    }
  }

  /** Resumes reading after an asynchronous authentication decision. */
  resumeAfterAuth(): void {
    const rest = this.pending;
    this.pending = null;
    this.link.resume();
    if (rest !== null && this.state === ConnState.Connected) this.consume(rest, 0);
  }

  private scanError(error: number, detail: number): void {
    if (error === SCAN_ERR_TOO_LARGE) {
      this.protocolFailure(ReasonCode.PacketTooLarge, `packet of ${detail} bytes exceeds the maximum packet size of ${this.ctx.limits.maxPacketSize} bytes`);
    } else if (error === SCAN_ERR_LENGTH) {
      this.protocolFailure(ReasonCode.Malformed, 'malformed remaining length (more than 4 bytes)');
    } else {
      this.protocolFailure(ReasonCode.Malformed, 'malformed PUBLISH (topic or packet identifier runs past the packet)');
    }
  }

  // --- writing -----------------------------------------------------------------------------

  /** Writes one encoded packet, corking the link until the end of this turn. */
  send(packet: Buffer): void {
    if (this.state === ConnState.Closed) return;
    if (!this.corked) {
      this.corked = true;
      this.link.cork();
      uncorkAtEndOfTurn(this);
    }
    this.link.write(packet);
  }

  uncorkTurn(): void {
    this.corked = false;
    this.link.uncork();
  }

  // --- SessionOwner ------------------------------------------------------------------------

  sendMessage(msg: Message, qos: QoS, retain: boolean, packetId: number, dup: boolean, subIds: readonly number[] | null): boolean {
    if (this.state !== ConnState.Connected) return false;
    if (qos === 0 && this.link.bufferedAmount > this.ctx.limits.maxSocketBuffer) {
      // A client that stops reading loses QoS 0 first; QoS 1/2 wait in the session's bounded queue.
      const drops = ++this.ctx.broker.metrics.slowConsumerDrops;
      const now = this.ctx.broker.wheel.now;
      if (now - lastSlowConsumerLog >= 1000) {
        lastSlowConsumerLog = now;
        this.ctx.log.warn('QoS 0 message dropped: the client is not reading (--max-socket-buffer)', {
          clientId: this.clientId,
          address: this.link.remoteAddress,
          bufferedBytes: this.link.bufferedAmount,
          limit: this.ctx.limits.maxSocketBuffer,
          droppedTotal: drops,
        });
      }
      return false;
    }
    const packet = this.outbound.publish(msg, qos, retain, packetId, dup, subIds);
    if (packet === null) return false;
    this.send(packet);
    return true;
  }

  sendRelease(packetId: number): void {
    this.send(this.outbound.ack(PacketType.PUBREL, packetId, 0));
  }

  kick(reason: number, reasonString: string): void {
    if (this.state === ConnState.Closed) return;
    if (reason === ReasonCode.SessionTakenOver) this.closeReason = 'takeover';
    else if (reason === ReasonCode.ServerShuttingDown) {
      this.closeReason = 'shutdown';
      this.will = null;
    } else this.closeReason = 'kicked';
    this.disconnectWith(reason, reasonString);
  }

  // --- keep-alive and connect timeout ------------------------------------------------------

  onTimer(now: number): number {
    if (this.state === ConnState.Closed) return 0;
    if (this.state !== ConnState.Connected) {
      this.closeReason = 'connect-timeout';
      this.logDebug('closed: no CONNECT within the connect timeout', { timeoutSeconds: this.ctx.limits.connectTimeout });
      this.link.destroy();
      this.finish('connect-timeout');
      return 0;
    }
    if (this.keepAliveMs === 0) return 0;
    const deadline = this.lastActivity + this.keepAliveMs * 1.5;
    if (now < deadline) return deadline;
    this.closeReason = 'keepalive-timeout';
    this.logDebug('closed: keep-alive timeout', { keepAliveSeconds: this.keepAliveMs / 1000 });
    this.disconnectWith(ReasonCode.KeepAliveTimeout, 'keep-alive timeout');
    return 0;
  }

  // --- ending ------------------------------------------------------------------------------

  /** A thrown error while handling a packet: protocol errors end the connection with their reason. */
  fail(err: unknown): void {
    if (err instanceof JunctionError) {
      const topicInvalid = (err as { topicInvalid?: boolean }).topicInvalid === true;
      this.protocolFailure(topicInvalid ? ReasonCode.TopicNameInvalid : err.reason, err.message);
      return;
    }
    this.ctx.log.error('internal error handling a packet', { clientId: this.clientId, address: this.link.remoteAddress, error: err });
    this.protocolFailure(ReasonCode.UnspecifiedError, 'internal error');
  }

  /** Ends the connection for a protocol violation: counted, logged at debug, DISCONNECT in 5.0. */
  protocolFailure(reason: number, message: string): void {
    if (this.state === ConnState.Closed) return;
    this.ctx.broker.metrics.protocolErrors++;
    this.closeReason = 'protocol-error';
    this.logDebug('protocol error, closing', { reason: '0x' + reason.toString(16), detail: message });
    this.disconnectWith(reason, message);
  }

  /** Sends DISCONNECT (5.0, once connected) and closes. */
  disconnectWith(reason: number, reasonString: string): void {
    if (this.state === ConnState.Closed) return;
    if (this.version === 5 && this.state === ConnState.Connected) {
      const props = this.requestProblemInformation && reasonString !== '' ? { reasonString } : {};
      this.send(encodeDisconnect(reason, props));
    }
    const reasonName = this.closeReason;
    this.finish(reasonName);
    this.link.end();
  }

  /** Closes after what was written is flushed (a DISCONNECT from the client, a refusal). */
  close(reason: CloseReason, publishWill: boolean): void {
    if (this.state === ConnState.Closed) return;
    if (!publishWill) this.will = null;
    this.closeReason = reason;
    this.finish(reason);
    this.link.end();
  }

  /** MQTT 5 enhanced authentication: AUTH 0x18 with the method's data. */
  sendAuthContinue(method: string, data: Buffer | undefined): void {
    const properties = data === undefined ? { authenticationMethod: method } : { authenticationMethod: method, authenticationData: data };
    this.send(encodeAuth(ReasonCode.ContinueAuthentication, properties));
  }

  /** Releases the session (publishing the will unless cleared) and leaves the wheel. */
  private finish(reason: CloseReason): void {
    const wasConnected = this.state === ConnState.Connected;
    this.state = ConnState.Closed;
    this.ctx.broker.wheel.cancel(this);
    this.ctx.connections--;
    this.ctx.broker.metrics.connectionsClosed++;
    if (this.session !== null) {
      const session = this.session;
      this.session = null;
      this.ctx.broker.detach(session, this, this.will);
    }
    this.will = null;
    this.pending = null;
    if (wasConnected) {
      this.logDebug('client disconnected', { reason });
      this.ctx.events.disconnected(this.clientInfo(), reason);
    }
  }

  /** Who this is, for lifecycle events (built on demand: not kept per idle connection). */
  clientInfo(): ClientInfo {
    return {
      clientId: this.clientId,
      username: this.username,
      address: this.link.remoteAddress,
      port: this.link.remotePort,
      protocol: 'mqtt',
      protocolVersion: VERSION_NAMES[this.version] ?? String(this.version),
      transport: this.link.transport,
      keepAlive: this.keepAliveMs / 1000,
      cleanStart: this.cleanStart,
    };
  }

  logDebug(msg: string, fields: Record<string, unknown>): void {
    const log = this.ctx.log;
    if (!log.enabled('debug')) return;
    if (!this.ctx.logLimit.allow(this.link.remoteAddress)) return;
    log.debug(msg, { clientId: this.clientId, address: this.link.remoteAddress, port: this.link.remotePort, ...fields });
  }
}
