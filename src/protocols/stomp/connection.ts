/**
 * One STOMP connection: the frame parser over the link, the CONNECT gate, heart-beats both
 * ways and the connect timeout on the broker's timer wheel, the SessionOwner side the core
 * delivers through, and the one place connections end (ERROR then close).
 */
import { JunctionError } from '../../errors.js';
import type { Link, LinkHandler } from '../../transports/link.js';
import { uncorkAtEndOfTurn, type TurnCorked } from '../../transports/cork-batch.js';
import type { Session, SessionOwner } from '../../core/session.js';
import type { Message, QoS } from '../../core/message.js';
import type { WheelItem } from '../../core/timer-wheel.js';
import type { ClientInfo, DisconnectReason } from '../../core/events.js';
import { Escaping, type StompFrame, type StompVersion } from './codec/frame.js';
import { FrameParser } from './codec/parser.js';
import { HEARTBEAT, encodeFrame, type HeaderList } from './codec/encode.js';
import { StompError } from './errors.js';
import type { StompContext } from './context.js';
import { AckTracker } from './acks.js';
import { SubscriptionTable, type StompSubscription } from './subscriptions.js';
import { Transactions } from './transactions.js';
import { deliverMessage } from './outbound.js';
import { dispatchFrame } from './handlers/index.js';

export const enum StompState {
  AwaitingConnect = 0,
  Authenticating = 1,
  Connected = 2,
  Closed = 3,
}

export class StompConnection implements LinkHandler, SessionOwner, WheelItem, TurnCorked {
  readonly link: Link;
  readonly ctx: StompContext;
  readonly parser: FrameParser;
  state = StompState.AwaitingConnect;
  version: StompVersion = '1.0';
  escaping: Escaping = Escaping.None;
  clientId = '';
  /** True when the client named itself (client-id header): redeliveries wait for that id. */
  namedClient = false;
  username: string | null = null;
  session: Session | null = null;
  info: ClientInfo | null = null;
  closeReason: DisconnectReason = 'connection-lost';

  readonly subscriptions = new SubscriptionTable();
  readonly acks = new AckTracker();
  readonly transactions = new Transactions();
  /** ack / message-id counter */
  nextMessageId = 1;
  /** While sendRetained runs: the one subscription its retained messages are for. */
  retainTarget: StompSubscription | null = null;
  /** Messages the next delivery marks `redelivered:true` (NACKed or taken from the pool). */
  redelivering: WeakSet<Message> | null = null;
  /** Core packet ids of QoS 1 deliveries no subscription acknowledges: acked at end of turn. */
  autoAcks: number[] | null = null;
  /** DISCONNECT arrived: nothing after it is read. */
  closing = false;
  /** Receipts waiting for a store commit; later receipts wait behind them to keep order. */
  pendingCommits = 0;

  /** Negotiated heart-beats in ms (0 = none). */
  sendBeatMs = 0;
  receiveBeatMs = 0;
  lastRead: number;
  lastWrite: number;
  wheelSlot = -1;
  wheelDeadline = 0;
  /** SessionOwner: at-least-once deliveries in flight, before --max-inflight caps it. */
  readonly sendWindow = 65535;

  private corked = false;
  private readonly sink = (frame: StompFrame): boolean => this.onFrame(frame);

  constructor(link: Link, ctx: StompContext) {
    this.link = link;
    this.ctx = ctx;
    const l = ctx.limits;
    this.parser = new FrameParser({ maxHeaders: l.maxHeaders, maxHeaderLength: l.maxHeaderLength, maxBody: l.maxBody });
    const wheel = ctx.broker.wheel;
    this.lastRead = this.lastWrite = wheel.now;
    wheel.schedule(this, wheel.now + l.connectTimeout * 1000);
  }

  // --- LinkHandler -------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.state === StompState.Closed) return;
    this.lastRead = this.ctx.broker.wheel.now;
    try {
      this.parser.feed(chunk, this.sink);
    } catch (err) {
      this.fail(err, null);
    }
  }

  onDrain(): void {
    /* slow consumers are bounded by the core's inflight window and queue */
  }

  onClose(): void {
    if (this.state === StompState.Closed) return;
    this.finish(this.closeReason);
  }

  private onFrame(frame: StompFrame): boolean {
    if (this.state === StompState.Closed) return false;
    try {
      dispatchFrame(this, frame);
    } catch (err) {
      this.fail(err, frame.header('receipt') ?? null);
      return false;
    }
    if (this.closing) return false;
    return this.state === StompState.Connected || this.state === StompState.AwaitingConnect;
  }

  /** Continues with the bytes that arrived while authentication was pending. */
  resumeAfterAuth(): void {
    this.link.resume();
    try {
      this.parser.resume(this.sink);
    } catch (err) {
      this.fail(err, null);
    }
  }

  // --- writing -----------------------------------------------------------------------------

  /** Writes bytes, corking the link until the end of this turn. */
  write(data: Buffer): void {
    if (this.state === StompState.Closed) return;
    if (!this.corked) {
      this.corked = true;
      this.link.cork();
      uncorkAtEndOfTurn(this);
    }
    this.link.write(data);
    this.lastWrite = this.ctx.broker.wheel.now;
  }

  /** Writes a control frame (CONNECTED, RECEIPT, ERROR). */
  sendFrame(command: string, headers: HeaderList, body: Buffer | null = null): void {
    this.write(encodeFrame(command, headers, body, this.escaping));
  }

  uncorkTurn(): void {
    this.corked = false;
    this.link.uncork();
    const acks = this.autoAcks;
    if (acks !== null && this.session !== null) {
      this.autoAcks = null;
      for (const packetId of acks) this.ctx.broker.acknowledge(this.session, packetId);
    }
  }

  /** RECEIPT for a frame that asked for one; after the store commit when `afterStore`. */
  receipt(frame: StompFrame, afterStore: boolean): void {
    const id = frame.header('receipt');
    if (id === undefined) return;
    if (!afterStore && this.pendingCommits === 0) {
      this.sendFrame('RECEIPT', [['receipt-id', id]]);
      return;
    }
    this.pendingCommits++;
    this.ctx.broker.afterCommit(sendLateReceipt, { conn: this, id });
  }

  // --- SessionOwner ------------------------------------------------------------------------

  sendMessage(msg: Message, qos: QoS, retain: boolean, packetId: number, dup: boolean, subIds: readonly number[] | null): boolean {
    if (this.state !== StompState.Connected) return false;
    return deliverMessage(this, msg, qos, retain, packetId, dup, subIds);
  }

  sendRelease(): void {
    /* STOMP subscriptions are at most QoS 1: there is no QoS 2 flow to release */
  }

  kick(reason: number, reasonString: string): void {
    if (this.state === StompState.Closed) return;
    this.closeReason = reason === 0x8e ? 'takeover' : reason === 0x8b ? 'shutdown' : 'kicked';
    this.sendError(reasonString, [], null);
    this.end(this.closeReason);
  }

  // --- heart-beats and the connect timeout -------------------------------------------------

  onTimer(now: number): number {
    if (this.state === StompState.Closed) return 0;
    if (this.state !== StompState.Connected) {
      this.closeReason = 'connect-timeout';
      this.sendError(`no CONNECT frame within ${this.ctx.limits.connectTimeout} s`, [], null);
      this.end('connect-timeout');
      return 0;
    }
    let next = 0;
    if (this.receiveBeatMs > 0) {
      const deadline = this.lastRead + this.receiveBeatMs * 1.5;
      if (now >= deadline) {
        this.logDebug('closed: heart-beat timeout', { heartBeatMs: this.receiveBeatMs });
        this.closeReason = 'keepalive-timeout';
        this.sendError(`heart-beat timeout: nothing received for ${now - this.lastRead} ms (heart-beat every ${this.receiveBeatMs} ms agreed)`, [], null);
        this.end('keepalive-timeout');
        return 0;
      }
      next = deadline;
    }
    if (this.sendBeatMs > 0) {
      // Beat a wheel tick early so the client's own check never sees a late one.
      const early = Math.min(this.ctx.broker.wheel.resolution, this.sendBeatMs / 2);
      let due = this.lastWrite + this.sendBeatMs - early;
      if (now >= due) {
        this.write(HEARTBEAT);
        due = now + this.sendBeatMs - early;
      }
      if (next === 0 || due < next) next = due;
    }
    return next;
  }

  /** Starts the heart-beat deadlines once CONNECTED is sent. */
  startHeartbeats(): void {
    const wheel = this.ctx.broker.wheel;
    this.wheelDeadline = 0;
    if (this.sendBeatMs === 0 && this.receiveBeatMs === 0) {
      wheel.cancel(this);
      return;
    }
    const first = Math.min(this.sendBeatMs || Infinity, (this.receiveBeatMs || Infinity) * 1.5);
    wheel.schedule(this, wheel.now + Math.max(first - wheel.resolution, wheel.resolution));
  }

  // --- ending ------------------------------------------------------------------------------

  /** A frame failed: StompErrors answer with their message; anything else is an internal error. */
  fail(err: unknown, receiptId: string | null): void {
    if (this.state === StompState.Closed) return;
    if (err instanceof JunctionError) {
      this.ctx.broker.metrics.protocolErrors++;
      this.logDebug('protocol error, closing', { detail: err.message });
      const headers = err instanceof StompError ? err.headers : [];
      this.closeReason = err.code === 'JN_NOT_AUTHORIZED' || err.code === 'JN_BAD_CREDENTIALS' ? 'auth-failure' : 'protocol-error';
      this.sendError(err.message, headers, receiptId);
    } else {
      this.ctx.log.error('internal error handling a STOMP frame', { clientId: this.clientId, address: this.link.remoteAddress, error: err });
      this.closeReason = 'protocol-error';
      this.sendError('internal error', [], receiptId);
    }
    this.end(this.closeReason);
  }

  /** ERROR with `message` (and the text as body); 1.2 echoes the receipt of the bad frame. */
  sendError(message: string, extra: HeaderList, receiptId: string | null): void {
    const headers: Array<readonly [string, string]> = [['message', message.replace(/[\r\n]+/g, ' ')], ...extra];
    if (receiptId !== null) headers.push(['receipt-id', receiptId]);
    const body = Buffer.from(message + '\n');
    headers.push(['content-type', 'text/plain'], ['content-length', String(body.length)]);
    this.sendFrame('ERROR', headers, body);
  }

  /** Flushes what was written, then closes. */
  end(reason: DisconnectReason): void {
    if (this.state === StompState.Closed) return;
    this.finish(reason);
    this.link.end();
  }

  /** Aborts transactions, hands unacknowledged messages to redelivery, releases the session. */
  private finish(reason: DisconnectReason): void {
    const wasConnected = this.state === StompState.Connected;
    this.state = StompState.Closed;
    const ctx = this.ctx;
    ctx.broker.wheel.cancel(this);
    ctx.connections--;
    ctx.broker.metrics.connectionsClosed++;
    this.transactions.abortAll();
    const session = this.session;
    if (session !== null) {
      this.session = null;
      this.holdUnacknowledged(session);
      ctx.broker.detach(session, this, null);
    }
    if (wasConnected) {
      this.logDebug('client disconnected', { reason });
      if (this.info !== null) ctx.events.disconnected(this.info, reason);
    }
  }

  /** What at-least-once subscriptions had not acknowledged goes to the redelivery pool. */
  private holdUnacknowledged(session: Session): void {
    const pool = this.ctx.redelivery;
    const now = Date.now();
    const owner = this.namedClient ? this.clientId : null;
    for (const msg of this.acks.drain()) pool.hold(msg, owner, now);
    // Deliveries the window had not sent yet, for slots with an at-least-once subscription.
    for (const out of session.queue) {
      if (out.qos === 0 || out.subIds === null) continue;
      if (out.subIds.some((n) => (this.subscriptions.slot(n)?.qos ?? 0) > 0)) pool.hold(out.msg, owner, now);
    }
  }

  logDebug(msg: string, fields: Record<string, unknown>): void {
    const log = this.ctx.log;
    if (!log.enabled('debug')) return;
    if (!this.ctx.logLimit.allow(this.link.remoteAddress)) return;
    log.debug(msg, { protocol: 'stomp', clientId: this.clientId, address: this.link.remoteAddress, port: this.link.remotePort, ...fields });
  }
}

function sendLateReceipt(arg: { conn: StompConnection; id: string }): void {
  const conn = arg.conn;
  conn.pendingCommits--;
  if (conn.state === StompState.Connected) conn.sendFrame('RECEIPT', [['receipt-id', arg.id]]);
}
