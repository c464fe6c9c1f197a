/**
 * One STOMP connection: the frame parser, the CONNECT gate, heart-beats both ways, the delivery
 * side the core writes MESSAGE frames through, and the one place frames fail (ERROR, then
 * close). The shell does the rest (reading, pauses, turns, deadlines, closing).
 */
import type { StoreFullError } from '../../store/types.js';
import { JunctionError } from '../../errors.js';
import type { Link } from '../../transports/link.js';
import { Delivered, type Delivery, type KickReason, type Session } from '../../core/session.js';
import type { Message } from '../../core/message.js';
import type { DisconnectReason } from '../../core/events.js';
import { ConnectionShell, Phase } from '../../gateway/shell.js';
import type { Admission, GatewayContext } from '../../gateway/context.js';
import { PUBLISH_COST } from '../../gateway/turns.js';
import { Escaping, type StompFrame, type StompVersion } from './codec/frame.js';
import { FrameParser } from './codec/parser.js';
import { HEARTBEAT, encodeFrame, type HeaderList } from './codec/encode.js';
import { StompError } from './errors.js';
import { AckTracker } from './acks.js';
import { SubscriptionTable, type StompSubscription } from './subscriptions.js';
import { Transactions } from './transactions.js';
import { deliverMessage } from './outbound.js';
import { dispatchFrame, isLoginFrame } from './handlers/index.js';
import { completeConnect } from './handlers/connect.js';
import type { StompConfig } from './protocol.js';

const KICK_MESSAGES: Readonly<Record<KickReason, string>> = {
  takeover: 'session taken over: another connection uses this client-id',
  shutdown: 'server shutting down',
  kicked: 'disconnected by the server',
  expired: 'credentials expired: log in again with new ones',
};

export class StompConnection extends ConnectionShell {
  readonly protocolName = 'stomp';
  /** At-least-once deliveries in flight, before --max-inflight caps it. */
  readonly sendWindow = 65535;
  readonly config: StompConfig;
  readonly parser: FrameParser;
  version: StompVersion = '1.0';
  escaping: Escaping = Escaping.None;
  /** True when the client named itself (client-id header): redeliveries wait for that id. */
  namedClient = false;

  readonly subscriptions = new SubscriptionTable();
  readonly acks = new AckTracker();
  readonly transactions = new Transactions();
  /** ack / message-id counter */
  nextMessageId = 1;
  /** While sendRetained runs: the one subscription its retained messages are for. */
  retainTarget: StompSubscription | null = null;
  /** Messages the next delivery marks `redelivered:true` (NACKed or taken from the pool). */
  redelivering: WeakSet<Message> | null = null;
  /** Core delivery ids of QoS 1 deliveries no subscription acknowledges: acked at end of turn. */
  autoAcks: number[] | null = null;
  /** DISCONNECT arrived: nothing after it is read. */
  closing = false;
  /** Receipts waiting for a store commit; later receipts wait behind them to keep order. */
  pendingCommits = 0;
  /** The CONNECT frame being admitted. */
  connectFrame: StompFrame | null = null;

  /** Negotiated heart-beats in ms (0 = none). */
  sendBeatMs = 0;
  receiveBeatMs = 0;
  lastWrite: number;

  /**
   * A CONNECT past this pass's login budget: parsed, not handled yet. It is handled first when
   * the connection's turn comes again; what followed it waits in the parser meanwhile.
   */
  private waitingLogin: StompFrame | null = null;

  private readonly sink = (frame: StompFrame): boolean => this.onFrame(frame);

  constructor(link: Link, kit: GatewayContext, config: StompConfig) {
    super(link, kit, config.limits.connectTimeoutMs);
    this.config = config;
    const l = config.limits;
    this.parser = new FrameParser({ maxHeaders: l.maxHeaders, maxHeaderLength: l.maxHeaderLength, maxBody: l.maxBody });
    // Until the client is in, one frame (its CONNECT) may not be larger than --max-connect-size.
    this.parser.frameLimit = { bytes: kit.options.maxConnectSize, flag: '--max-connect-size' };
    this.lastWrite = this.lastActivity;
  }

  protected get protocolVersion(): string {
    return this.version;
  }

  protected override infoExtras(): { cleanStart: boolean } {
    return { cleanStart: true };
  }

  // --- reading -----------------------------------------------------------------------------

  protected receive(chunk: Buffer | null): void {
    try {
      if (chunk === null) {
        const login = this.waitingLogin;
        if (login !== null) {
          // Still past the budget: it waits another pass. What followed stays in the stopped parser
          // until the login went through.
          if (!this.takeLoginTurn()) return;
          this.waitingLogin = null;
          if (!this.handle(login)) return;
        }
        this.parser.resume(this.sink);
      } else {
        this.touch();
        this.parser.feed(chunk, this.sink);
      }
    } catch (err) {
      this.fail(err, null);
    }
  }

  protected hold(chunk: Buffer): void {
    this.touch();
    this.parser.hold(chunk);
  }

  private onFrame(frame: StompFrame): boolean {
    if (this.closed) return false;
    if (this.phase === Phase.Connecting && isLoginFrame(frame.command) && !this.takeLoginTurn()) {
      // This pass's logins are spent: the CONNECT waits for the next pass, after the
      // established clients' reads (a storm must not hold the loop); the parser keeps the rest.
      this.waitingLogin = frame;
      return false;
    }
    return this.handle(frame);
  }

  /** Handles one frame; false when reading must stop (closed, closing, paused, turn over). */
  private handle(frame: StompFrame): boolean {
    try {
      dispatchFrame(this, frame);
    } catch (err) {
      this.fail(err, frame.header('receipt') ?? null);
      return false;
    }
    if (this.closing) return false;
    return this.proceed(frame.command === 'SEND' ? PUBLISH_COST : 1);
  }

  // --- login -------------------------------------------------------------------------------

  /** Asks the gateway to admit the client of this CONNECT frame (the answer goes to completeConnect). */
  login(frame: StompFrame, login: string | undefined, passcode: string | undefined): void {
    this.connectFrame = frame;
    this.admit({ clientId: this.clientId, username: login ?? null, password: passcode === undefined ? null : Buffer.from(passcode), protocol: `stomp/${this.version}` });
  }

  protected admitted(answer: Admission): void {
    const frame = this.connectFrame!;
    this.connectFrame = null;
    completeConnect(this, frame, answer);
  }

  /** CONNECTED was sent: the client is in. */
  online(): void {
    this.parser.frameLimit = null;
    this.goOnline();
  }

  protected override loginBytesHeld(): number {
    const login = this.waitingLogin;
    return this.parser.heldBytes + (login === null ? 0 : frameSize(login));
  }

  // --- writing -----------------------------------------------------------------------------

  override write(data: Buffer): void {
    super.write(data);
    this.lastWrite = this.kit.wheel.now;
  }

  /** Writes a control frame (CONNECTED, RECEIPT, ERROR). */
  sendFrame(command: string, headers: HeaderList, body: Buffer | null = null): void {
    this.write(encodeFrame(command, headers, body, this.escaping));
  }

  override uncorkTurn(): void {
    super.uncorkTurn();
    const acks = this.autoAcks;
    if (acks !== null && this.client !== null) {
      this.autoAcks = null;
      for (const id of acks) this.client.acknowledge(id);
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
    this.kit.afterCommit(sendLateReceipt, { conn: this, id });
  }

  /** DISCONNECT with a receipt while earlier receipts wait for the store: close after them. */
  closeAfterReceipts(id: string): void {
    this.holdReading();
    this.kit.afterCommit(closeAfterReceipt, { conn: this, id });
  }

  // --- deliveries --------------------------------------------------------------------------

  deliver(d: Delivery): Delivered {
    if (this.phase !== Phase.Online) return Delivered.Refused;
    deliverMessage(this, d.msg, d.qos, d.retain, d.id, d.subscriptionIds);
    return Delivered.Written;
  }

  protected override farewell(reason: KickReason): void {
    this.sendError(KICK_MESSAGES[reason], [], null);
  }

  // --- heart-beats and the connect timeout -------------------------------------------------

  protected override loginTimedOut(): void {
    this.sendError(`no CONNECT frame within ${this.config.limits.connectTimeoutMs / 1000} s`, [], null);
    this.end('connect-timeout');
  }

  protected tick(now: number): number {
    let next = 0;
    if (this.receiveBeatMs > 0) {
      const deadline = this.lastActivity + this.receiveBeatMs * 1.5;
      if (now >= deadline) {
        this.logDebug('closed: heart-beat timeout', { heartBeatMs: this.receiveBeatMs });
        this.sendError(`heart-beat timeout: nothing received for ${now - this.lastActivity} ms (heart-beat every ${this.receiveBeatMs} ms agreed)`, [], null);
        this.end('keepalive-timeout');
        return 0;
      }
      next = deadline;
    }
    if (this.sendBeatMs > 0) {
      // Beat a wheel tick early so the client's own check never sees a late one.
      const early = Math.min(this.kit.wheel.resolution, this.sendBeatMs / 2);
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
    const wheel = this.kit.wheel;
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
    if (this.closed) return;
    if (err instanceof JunctionError) {
      this.protocolViolation(err.message);
      const headers = err instanceof StompError ? err.headers : [];
      this.closeReason = err.code === 'JN_NOT_AUTHORIZED' || err.code === 'JN_BAD_CREDENTIALS' ? 'auth-failure' : err.code === 'JN_QUOTA_EXCEEDED' ? 'quota-exceeded' : 'protocol-error';
      this.sendError(err.message, headers, receiptId);
    } else {
      this.kit.log.error('internal error handling a STOMP frame', { clientId: this.clientId, address: this.link.remoteAddress, error: err });
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

  /** Aborts transactions and hands what was not acknowledged to redelivery. */
  protected override released(_reason: DisconnectReason): void {
    this.waitingLogin = null;
    this.transactions.abortAll();
    const session = this.client?.session ?? null;
    if (session !== null) this.holdUnacknowledged(session);
  }

  /** What at-least-once subscriptions had not acknowledged goes to the redelivery pool. */
  private holdUnacknowledged(session: Session): void {
    const pool = this.config.redelivery;
    const now = Date.now();
    const owner = this.namedClient ? this.clientId : null;
    for (const msg of this.acks.drain()) pool.hold(msg, owner, now);
    // Deliveries the window had not sent yet, for slots with an at-least-once subscription.
    for (const out of session.queue) {
      if (out.qos === 0 || out.subscriptionIds === null) continue;
      if (out.subscriptionIds.some((n) => (this.subscriptions.slot(n)?.qos ?? 0) > 0)) pool.hold(out.msg, owner, now);
    }
  }
}

/** About the bytes a parsed frame came in (a CONNECT has no body): what a waiting login keeps. */
function frameSize(frame: StompFrame): number {
  let size = frame.command.length + 2 + frame.body.length;
  for (const [name, value] of frame.headers) size += name.length + value.length + 2;
  return size;
}

function sendLateReceipt(arg: { conn: StompConnection; id: string }, failure: StoreFullError | null): void {
  const conn = arg.conn;
  conn.pendingCommits--;
  if (conn.phase !== Phase.Online) return;
  if (failure === null) {
    conn.sendFrame('RECEIPT', [['receipt-id', arg.id]]);
    return;
  }
  // The store could not keep the message (--max-store-size, a full disk): no RECEIPT, an ERROR
  // naming the receipt, so the client sends it again.
  conn.closeReason = 'quota-exceeded';
  conn.sendError(`message not stored: ${failure.message}`, [], arg.id);
  conn.end('quota-exceeded');
}

function closeAfterReceipt(arg: { conn: StompConnection; id: string }): void {
  if (arg.conn.closed) return;
  arg.conn.sendFrame('RECEIPT', [['receipt-id', arg.id]]);
  arg.conn.end('normal');
}
