/**
 * The connection shell: the lifecycle every protocol's connection shares, written once. Writes
 * corked per turn; reading paused for named reasons (admission pending, publish pace, a yielded
 * turn, a client that does not read); deadlines on the broker's timer wheel; fair turns on the
 * read path; one finish (detach the session, count, tell the hooks). A protocol extends it with
 * its codec and its state machine only (the model: EMQX's gateway connection and channel).
 *
 * What a protocol fills in: `receive` (parse what arrived, calling `proceed` after each frame),
 * `hold` (keep bytes that arrive while reading is paused), `admitted` (the answer to its login),
 * `deliver` (a message for the client), `tick` (its deadlines once online), `farewell` (what it
 * says when the broker ends it), `released` (its own clean-up).
 */
import type { Link, LinkHandler } from '../transports/link.js';
import { uncorkAtEndOfTurn, type TurnCorked } from '../transports/cork-batch.js';
import type { Delivered, Delivery, KickReason, SessionOwner } from '../core/session.js';
import type { WheelItem } from '../core/timer-wheel.js';
import type { ClientInfo, DisconnectReason } from '../core/events.js';
import type { Pausable } from '../core/auth.js';
import type { Will } from '../core/will.js';
import type { Client } from './client.js';
import type { Admission, AdmissionRequest, GatewayContext } from './context.js';
import { TURN_BUDGET, spend, takeLogin, waitForTurn, workDone, type TurnTaker } from './turns.js';

export const enum Phase {
  /** before the login frame was accepted */
  Connecting = 0,
  /** admission (authentication) is pending; reading is paused */
  Authenticating = 1,
  Online = 2,
  Closed = 3,
}

/** Why reading is stopped; several may hold at once, reading resumes when none does. */
export const enum Pause {
  Admission = 1,
  /** the publish pace (the guard's token bucket ran dry) */
  Rate = 2,
  /** the connection yielded its turn to the others */
  Turn = 4,
  /** the client does not read what we write (--max-socket-buffer) */
  Backpressure = 8,
}

const KICK_CLOSE_REASONS: Readonly<Record<KickReason, DisconnectReason>> = { takeover: 'takeover', shutdown: 'shutdown', kicked: 'kicked', expired: 'credentials-expired' };

/** The deadline of a client's credentials on the wheel: kicks the connection when they expire. */
class CredentialsDeadline implements WheelItem {
  wheelSlot = -1;
  wheelDeadline = 0;
  constructor(private readonly shell: ConnectionShell) {}

  onTimer(): number {
    this.shell.kick('expired');
    return 0;
  }
}

export abstract class ConnectionShell implements LinkHandler, SessionOwner, WheelItem, TurnCorked, TurnTaker, Pausable {
  readonly link: Link;
  readonly kit: GatewayContext;
  phase = Phase.Connecting;
  /** The admitted client: this connection's only way to the core. */
  client: Client | null = null;
  /** Known from the login frame on; names the connection in logs. */
  clientId = '';
  /** Why the connection ends when the link closes under it. */
  closeReason: DisconnectReason = 'connection-lost';
  /** Published by the core when the connection ends, unless cleared (MQTT wills). */
  will: Will | null = null;
  /** When the client was last heard from, in ms after kit.epoch (each protocol says what counts; see touch()). */
  private heard = 0;
  // Traffic of this connection for the admin API: plain counters (small integers per idle
  // connection), folded into the kit's per-protocol totals when it closes.
  bytesIn = 0;
  bytesOut = 0;
  /** Messages the client published (through Client.publish). */
  messagesIn = 0;
  /** Messages written to the client (counted by the admin metrics' delivered hook). */
  messagesOut = 0;
  /** When it got online, in seconds after kit.epoch (a small integer, not a Date). */
  onlineSince = 0;
  wheelSlot = -1;
  wheelDeadline = 0;
  /** Set while the client's credentials expire (a JWT with exp). */
  private credentialsDeadline: CredentialsDeadline | null = null;
  /** Pause bits holding reading stopped. */
  protected pauses = 0;
  /** Bytes of this connection counted in the kit's login buffer (kept before it got online). */
  private loginBuffered = 0;
  private corked = false;
  /** Work done in all when this connection's current turn began. */
  private turnStart = 0;

  /** Largest number of unacknowledged QoS 1/2 deliveries the client takes. */
  abstract readonly sendWindow: number;
  /** 'mqtt', 'stomp', 'jt808', 'gbt32960': the protocol in events and logs. */
  abstract readonly protocolName: string;

  /** Starts the login deadline: a connection not online by then is closed ('connect-timeout'). */
  constructor(link: Link, kit: GatewayContext, loginTimeoutMs: number) {
    this.link = link;
    this.kit = kit;
    const wheel = kit.wheel;
    this.touch();
    // A link made late (native TCP: at the first bytes) counts the login deadline from the accept.
    wheel.schedule(this, wheel.now + Math.max(0, loginTimeoutMs - (link.silentForMs ?? 0)));
  }

  /** When the client was last heard from, in ms since the epoch. */
  get lastActivity(): number {
    return this.kit.epoch + this.heard;
  }

  /** The client was heard from now (by the wheel's clock). Kept as an offset: a small integer, not a heap number per connection. */
  protected touch(): void {
    this.heard = this.kit.wheel.now - this.kit.epoch;
  }

  /** Read through a getter so checks after calls that may close are not narrowed away. */
  get closed(): boolean {
    return this.phase === Phase.Closed;
  }

  // --- what a protocol fills in ------------------------------------------------------------

  /** Parses `chunk` (null: continue with what was held at a stop), calling proceed() after each frame. */
  protected abstract receive(chunk: Buffer | null): void;
  /** Keeps bytes that arrived while reading is paused, for the next receive(null). */
  protected abstract hold(chunk: Buffer): void;
  /** The answer to admit(): let the client in (or tell it no). */
  protected abstract admitted(answer: Admission): void;
  /** Writes one delivery to the client. */
  abstract deliver(delivery: Delivery): Delivered;
  /** Deadlines once online (keep-alive, heart-beats, command resends): the next one, or 0. May close. */
  protected abstract tick(now: number): number;
  /** The protocol's version for events ('5', '1.2', '2019'). */
  protected abstract get protocolVersion(): string;
  /** What the client is told when the broker ends the connection (before it closes); nothing by default. */
  protected farewell(_reason: KickReason): void {}
  /** Protocol clean-up when the connection ends, before the session is detached. */
  protected released(_reason: DisconnectReason): void {}
  /** Extra fields of this client's events (keep-alive, clean start). */
  protected infoExtras(): { keepAlive?: number; cleanStart?: boolean } {
    return {};
  }
  /**
   * Bytes the protocol keeps while the client is not online: an unfinished login frame, what
   * arrived behind a login being authenticated. Counted against --max-login-buffer and
   * --max-memory, so half-sent logins cannot fill memory before anyone is authenticated.
   */
  protected loginBytesHeld(): number {
    return 0;
  }
  /** The wheel fired before the client got online: the login deadline passed (a protocol with earlier deadlines checks). */
  protected beforeOnline(_now: number): number {
    this.loginTimedOut();
    return 0;
  }
  /** The login deadline passed: closes with 'connect-timeout' (a protocol may say why first). */
  protected loginTimedOut(): void {
    this.logDebug('closed: not logged in within the login timeout', {});
    this.end('connect-timeout');
  }

  // --- reading -----------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.phase === Phase.Closed) return;
    this.bytesIn += chunk.length;
    if (this.pauses !== 0) this.hold(chunk);
    else {
      this.turnStart = workDone();
      this.receive(chunk);
    }
    if (this.phase !== Phase.Online && !this.closed) this.countLoginBytes();
  }

  /**
   * Whole frames a transport already found (LinkHandler.onFrames, asked for by the protocol with
   * Link.frameMqtt; only online connections ask, so no login bytes to count). Held like any
   * bytes while paused.
   */
  onFrames(chunk: Buffer, scan: Uint32Array, block: number): void {
    if (this.phase === Phase.Closed) return;
    this.bytesIn += chunk.length;
    if (this.pauses !== 0) this.hold(chunk);
    else {
      this.turnStart = workDone();
      this.receiveFrames(chunk, scan, block);
    }
  }

  /** Handles frames found by the transport; a protocol that does not read scan records reads them as bytes. */
  protected receiveFrames(chunk: Buffer, _scan: Uint32Array, _block: number): void {
    this.receive(chunk);
  }

  /** Counts what a connection not yet online keeps; closes it when the login buffer or memory is full. */
  private countLoginBytes(): void {
    const held = this.loginBytesHeld();
    const kit = this.kit;
    kit.loginBuffered += held - this.loginBuffered;
    this.loginBuffered = held;
    if (held === 0) return;
    const full = kit.loginBufferFull();
    if (full === null) return;
    this.kit.metrics.connectionsRefused++;
    if (kit.logLimit.allow('login-buffer')) {
      kit.log.warn(`connection closed before login: ${full}`, { protocol: this.protocolName, address: this.link.remoteAddress, heldBytes: held, loginBufferBytes: kit.loginBuffered });
    }
    this.destroy('quota-exceeded');
  }

  /** Uncounts this connection's login bytes (it got online or closed). */
  private releaseLoginBytes(): void {
    if (this.loginBuffered === 0) return;
    this.kit.loginBuffered -= this.loginBuffered;
    this.loginBuffered = 0;
  }

  /**
   * Counts one frame's work; false when the caller must stop reading and keep the rest: the
   * connection closed or paused, or its turn is over (it continues when its turn comes again).
   */
  protected proceed(cost: number): boolean {
    const total = spend(cost);
    if (this.phase === Phase.Closed || this.pauses !== 0) return false;
    if (total - this.turnStart < TURN_BUDGET) return true;
    this.yieldTurn();
    return false;
  }

  /** Counts work without deciding anything (a reader that checks turnOver() per batch). */
  protected count(cost: number): void {
    spend(cost);
  }

  /** True once this turn's work is done. */
  protected get turnOver(): boolean {
    return workDone() - this.turnStart >= TURN_BUDGET;
  }

  /** Gives the other connections their turn; reading continues (receive(null)) in the next check phase. */
  protected yieldTurn(): void {
    this.pauseFor(Pause.Turn);
    waitForTurn(this);
  }

  /**
   * Takes one login of this pass's budget (--max-logins-per-turn); false: the budget is spent and
   * the connection yielded, so the caller keeps its login frame and what follows for receive(null).
   */
  protected takeLoginTurn(): boolean {
    if (takeLogin(this.kit.options.maxLoginsPerTurn)) return true;
    this.yieldTurn();
    return false;
  }

  /** TurnTaker: the event loop came round again. */
  continueTurn(): void {
    this.resumeFrom(Pause.Turn);
  }

  protected pauseFor(reason: Pause): void {
    if (this.pauses === 0) this.link.pause();
    this.pauses |= reason;
  }

  /** Clears one reason; when none is left, handles what was held, then reads again. */
  protected resumeFrom(reason: Pause): void {
    if ((this.pauses & reason) === 0) return;
    this.pauses &= ~reason;
    if (this.pauses !== 0 || this.phase === Phase.Closed) return;
    this.turnStart = workDone();
    this.receive(null);
    if (this.pauses === 0 && !this.closed) this.link.resume();
  }

  /** Pausable (the publish pace): stops handling frames at once; what was read waits. */
  pause(): void {
    this.pauseFor(Pause.Rate);
  }

  /** Pausable: the pace allows more; the connection waits for a turn rather than running inside the pacer's timer. */
  resume(): void {
    if ((this.pauses & Pause.Rate) === 0) return;
    if ((this.pauses & Pause.Turn) === 0) {
      this.pauses |= Pause.Turn;
      waitForTurn(this);
    }
    this.resumeFrom(Pause.Rate);
  }

  onDrain(): void {
    this.resumeFrom(Pause.Backpressure);
  }

  onClose(): void {
    if (this.phase !== Phase.Closed) this.finish(this.closeReason);
  }

  // --- admission ---------------------------------------------------------------------------

  /** Asks the gateway to let this client in; reading pauses while the answer is pending. */
  protected admit(request: AdmissionRequest): void {
    const answer = this.kit.admit(this, request);
    if (!(answer instanceof Promise)) {
      this.admitted(answer);
      return;
    }
    this.phase = Phase.Authenticating;
    this.pauseFor(Pause.Admission);
    void answer.then((a) => {
      if (this.phase !== Phase.Authenticating) return;
      this.phase = Phase.Connecting;
      this.admitted(a);
      this.resumeFrom(Pause.Admission);
    });
  }

  /** Stops reading while the protocol waits on something of its own (a registry request). */
  protected holdReading(): void {
    this.pauseFor(Pause.Admission);
  }

  /** Reads again after holdReading(), handling what arrived meanwhile first. */
  protected releaseReading(): void {
    this.resumeFrom(Pause.Admission);
  }

  /** The client is in: counted, and its connect event fired. */
  protected goOnline(): void {
    this.phase = Phase.Online;
    this.releaseLoginBytes();
    this.onlineSince = this.kit.secondsSinceEpoch();
    this.kit.metrics.connectionsOpened++;
    this.kit.clientConnected(this);
    const expiresAt = this.client?.expiresAt ?? 0;
    if (expiresAt > 0) {
      this.credentialsDeadline = new CredentialsDeadline(this);
      this.kit.wheel.schedule(this.credentialsDeadline, expiresAt);
    }
  }

  // --- writing -----------------------------------------------------------------------------

  /** Writes bytes, corking the link until the end of this turn; a client not reading stops being read. */
  write(bytes: Buffer): void {
    if (this.phase === Phase.Closed) return;
    this.bytesOut += bytes.length;
    if (!this.corked) {
      this.corked = true;
      this.link.cork();
      uncorkAtEndOfTurn(this);
    }
    if (!this.link.write(bytes) && (this.pauses & Pause.Backpressure) === 0 && this.link.bufferedAmount > this.kit.maxSocketBuffer) {
      this.pauseFor(Pause.Backpressure);
    }
  }

  /** TurnCorked: the turn's writes go out together. */
  uncorkTurn(): void {
    this.corked = false;
    this.link.uncork();
    // Data corked in the link (WebSocket) may have been all there was: no drain would come.
    if ((this.pauses & Pause.Backpressure) !== 0 && this.link.bufferedAmount <= this.kit.maxSocketBuffer) this.resumeFrom(Pause.Backpressure);
  }

  // --- deadlines ---------------------------------------------------------------------------

  /** Files `at` with the wheel when it is earlier than what is filed (later moves are found on firing). */
  protected schedule(at: number): void {
    if (this.phase === Phase.Closed || at === 0) return;
    if (this.wheelSlot === -1 || at < this.kit.wheel.deadlineOf(this)) this.kit.wheel.schedule(this, at);
  }

  onTimer(now: number): number {
    if (this.phase === Phase.Closed) return 0;
    if (this.phase !== Phase.Online) return this.beforeOnline(now);
    return this.tick(now);
  }

  // --- ending ------------------------------------------------------------------------------

  /** SessionOwner: the broker ends the connection (takeover, shutdown, an operator). */
  kick(reason: KickReason): void {
    if (this.phase === Phase.Closed) return;
    this.closeReason = KICK_CLOSE_REASONS[reason];
    if (reason === 'shutdown') this.will = null;
    this.logDebug('closed by the broker', { reason });
    this.farewell(reason);
    this.end(this.closeReason);
  }

  /** Flushes what was written, then closes. */
  end(reason: DisconnectReason): void {
    if (this.phase === Phase.Closed) return;
    this.finish(reason);
    this.link.end();
  }

  /** Closes at once, dropping what was not written. */
  destroy(reason: DisconnectReason): void {
    if (this.phase === Phase.Closed) return;
    this.finish(reason);
    this.link.destroy();
  }

  /** Counts a protocol violation and logs it (at debug, rate-limited per address). */
  protected protocolViolation(detail: string, fields: Record<string, unknown> = {}): void {
    this.kit.metrics.protocolErrors++;
    this.logDebug('protocol error', { detail, ...fields });
  }

  private finish(reason: DisconnectReason): void {
    const wasOnline = this.phase === Phase.Online;
    this.phase = Phase.Closed;
    this.closeReason = reason;
    this.releaseLoginBytes();
    this.kit.wheel.cancel(this);
    if (this.credentialsDeadline !== null) this.kit.wheel.cancel(this.credentialsDeadline);
    this.kit.connectionClosed(this);
    this.released(reason);
    this.client?.detach(this.will);
    this.will = null;
    if (wasOnline) {
      this.logDebug('client disconnected', { reason });
      this.kit.clientDisconnected(this, reason);
    }
  }

  // --- who this is -------------------------------------------------------------------------

  /** The client as events describe it (built on demand: not kept per idle connection). */
  clientInfo(): ClientInfo {
    return {
      clientId: this.clientId,
      username: this.client?.username ?? null,
      address: this.link.remoteAddress,
      port: this.link.remotePort,
      protocol: this.protocolName,
      protocolVersion: this.protocolVersion,
      transport: this.link.transport,
      ...this.infoExtras(),
    };
  }

  /** A debug line naming the connection, at most a few per second per address. */
  logDebug(msg: string, fields: Record<string, unknown>): void {
    const log = this.kit.log;
    if (!log.enabled('debug') || !this.kit.logLimit.allow(this.link.remoteAddress)) return;
    log.debug(msg, { protocol: this.protocolName, clientId: this.clientId, address: this.link.remoteAddress, port: this.link.remotePort, ...fields });
  }

  /** A warning naming the connection, at most a few per second per address. */
  warn(msg: string, fields: Record<string, unknown>): void {
    if (!this.kit.logLimit.allow(this.link.remoteAddress)) return;
    this.kit.log.warn(msg, { protocol: this.protocolName, clientId: this.clientId, address: this.link.remoteAddress, port: this.link.remotePort, ...fields });
  }
}
