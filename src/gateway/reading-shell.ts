/**
 * The reading side of the connection shell (shell.ts extends it): bytes in, reading paused for
 * named reasons (admission pending, publish pace, a yielded turn, a client that does not read),
 * fair turns on the read path and the login budget, and the bytes a connection not yet online
 * keeps, counted against --max-login-buffer and --max-memory.
 */
import type { Link } from '../transports/link.js';
import type { DisconnectReason } from '../core/events.js';
import type { GatewayContext } from './context.js';
import { Pause, Phase } from './phase.js';
import { TURN_BUDGET, spend, takeLogin, waitForTurn, workDone } from './turns.js';

/**
 * Work done in all when the current read turn began. One for the process, not a field per
 * connection: reads never nest (a connection's frames run to their end before another's start).
 */
let turnStart = 0;

/**
 * Bytes each connection not yet online keeps, counted in the kit's login buffer: only the few
 * with an unfinished login have an entry (no field in every connection).
 */
const loginHeld = new WeakMap<ReadingShell, number>();

/** The unit of the last-heard-from time: a deadline computed from it is at most this late. */
const HEARD_UNIT_MS = 16;

export abstract class ReadingShell {
  readonly link: Link;
  readonly kit: GatewayContext;
  phase = Phase.Connecting;
  /** Bytes read from the client, for the admin API (a small integer per idle connection). */
  bytesIn = 0;
  /** Pause bits holding reading stopped. */
  protected pauses = 0;
  /** When the client was last heard from, in HEARD_UNIT_MS after kit.epoch (each protocol says what counts; see touch()). */
  private heard = 0;

  /** 'mqtt', 'stomp', 'jt808', 'gbt32960': the protocol in events and logs. */
  abstract readonly protocolName: string;

  constructor(link: Link, kit: GatewayContext) {
    this.link = link;
    this.kit = kit;
    this.touch();
  }

  /** When the client was last heard from, in ms since the epoch (to HEARD_UNIT_MS). */
  get lastActivity(): number {
    return this.kit.epoch + this.heard * HEARD_UNIT_MS;
  }

  /** The client was heard from now (by the wheel's clock). */
  protected touch(): void {
    const units = Math.ceil((this.kit.wheel.now - this.kit.epoch) / HEARD_UNIT_MS);
    // A small integer (`| 0`), not a heap number per connection: V8 boxes arithmetic results,
    // and a field that once held a boxed number boxes every value after. 397 days of 16 ms.
    this.heard = units < 0x7fffffff ? units | 0 : units;
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
  /**
   * Bytes the protocol keeps while the client is not online: an unfinished login frame, what
   * arrived behind a login being authenticated. Counted against --max-login-buffer and
   * --max-memory, so half-sent logins cannot fill memory before anyone is authenticated.
   */
  protected loginBytesHeld(): number {
    return 0;
  }
  // --- reading -----------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.phase === Phase.Closed) return;
    this.bytesIn += chunk.length;
    if (this.pauses !== 0) this.hold(chunk);
    else {
      turnStart = workDone();
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
      turnStart = workDone();
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
    const before = loginHeld.get(this) ?? 0;
    if (held === before) return;
    kit.loginBuffered += held - before;
    if (held === 0) {
      loginHeld.delete(this);
      return;
    }
    loginHeld.set(this, held);
    const full = kit.loginBufferFull();
    if (full === null) return;
    this.kit.metrics.connectionsRefused++;
    if (kit.logLimit.allow('login-buffer')) {
      kit.log.warn(`connection closed before login: ${full}`, { protocol: this.protocolName, address: this.link.remoteAddress, heldBytes: held, loginBufferBytes: kit.loginBuffered });
    }
    this.destroy('quota-exceeded');
  }

  /** Uncounts this connection's login bytes (it got online or closed). */
  protected releaseLoginBytes(): void {
    const held = loginHeld.get(this);
    if (held === undefined) return;
    this.kit.loginBuffered -= held;
    loginHeld.delete(this);
  }

  /**
   * Counts one frame's work; false when the caller must stop reading and keep the rest: the
   * connection closed or paused, or its turn is over (it continues when its turn comes again).
   */
  protected proceed(cost: number): boolean {
    const total = spend(cost);
    if (this.phase === Phase.Closed || this.pauses !== 0) return false;
    if (total - turnStart < TURN_BUDGET) return true;
    this.yieldTurn();
    return false;
  }

  /** Counts work without deciding anything (a reader that checks turnOver() per batch). */
  protected count(cost: number): void {
    spend(cost);
  }

  /** True once this turn's work is done. */
  protected get turnOver(): boolean {
    return workDone() - turnStart >= TURN_BUDGET;
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
    turnStart = workDone();
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

  /** Closes at once, dropping what was not written. */
  abstract destroy(reason: DisconnectReason): void;
}
