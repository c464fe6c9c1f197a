/**
 * The connection shell: the lifecycle every protocol's connection shares, written once. Writes
 * corked per turn; admission; deadlines on the broker's timer wheel; one finish (detach the
 * session, count, tell the hooks). The reading side (pauses, fair turns, the login budget and
 * login bytes) is reading-shell.ts, which this extends. A protocol extends it with
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
import { TimerWheel, type WheelItem, type WheelLink } from '../core/timer-wheel.js';
import type { ClientInfo, DisconnectReason } from '../core/events.js';
import type { Pausable } from '../core/auth.js';
import type { Will } from '../core/will.js';
import type { Client } from './client.js';
import type { Admission, AdmissionRequest, GatewayContext } from './context.js';
import type { TurnTaker } from './turns.js';
import { Pause, Phase } from './phase.js';
import { ReadingShell } from './reading-shell.js';

export { Pause, Phase };

const KICK_CLOSE_REASONS: Readonly<Record<KickReason, DisconnectReason>> = { takeover: 'takeover', shutdown: 'shutdown', kicked: 'kicked', expired: 'credentials-expired' };

/** The deadline of a client's credentials on the wheel: kicks the connection when they expire. */
class CredentialsDeadline implements WheelItem {
  wheelPrev: WheelLink | null = null;
  wheelNext: WheelLink | null = null;
  wheelDeadline = 0;
  constructor(private readonly shell: ConnectionShell) {}

  onTimer(): number {
    this.shell.kick('expired');
    return 0;
  }
}

/** The connections whose credentials expire (a JWT with exp): few, so not a field of every connection. */
const credentialsDeadlines = new WeakMap<ConnectionShell, CredentialsDeadline>();

export abstract class ConnectionShell extends ReadingShell implements LinkHandler, SessionOwner, WheelItem, TurnCorked, TurnTaker, Pausable {
  /** The admitted client: this connection's only way to the core. */
  client: Client | null = null;
  /** Known from the login frame on; names the connection in logs. */
  clientId = '';
  /** Why the connection ends when the link closes under it. */
  closeReason: DisconnectReason = 'connection-lost';
  /** Published by the core when the connection ends, unless cleared (MQTT wills). */
  will: Will | null = null;
  /** Bytes written to the client (bytesIn is counted by the reading side). */
  bytesOut = 0;
  /** Messages the client published (through Client.publish). */
  messagesIn = 0;
  /** Messages written to the client (counted by the admin metrics' delivered hook). */
  messagesOut = 0;
  /** When it got online, in seconds after kit.epoch (a small integer, not a Date). */
  onlineSince = 0;
  wheelPrev: WheelLink | null = null;
  wheelNext: WheelLink | null = null;
  wheelDeadline = 0;
  private corked = false;

  /** Largest number of unacknowledged QoS 1/2 deliveries the client takes. */
  abstract readonly sendWindow: number;

  /** Starts the login deadline: a connection not online by then is closed ('connect-timeout'). */
  constructor(link: Link, kit: GatewayContext, loginTimeoutMs: number) {
    super(link, kit);
    const wheel = kit.wheel;
    // A link made late (native TCP: at the first bytes) counts the login deadline from the accept.
    wheel.schedule(this, wheel.now + Math.max(0, loginTimeoutMs - (link.silentForMs ?? 0)));
  }

  // --- what a protocol fills in ------------------------------------------------------------

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
      const deadline = new CredentialsDeadline(this);
      credentialsDeadlines.set(this, deadline);
      this.kit.wheel.schedule(deadline, expiresAt);
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
    if (!TimerWheel.filed(this) || at < this.kit.wheel.deadlineOf(this)) this.kit.wheel.schedule(this, at);
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
    const deadline = credentialsDeadlines.get(this);
    if (deadline !== undefined) {
      this.kit.wheel.cancel(deadline);
      credentialsDeadlines.delete(this);
    }
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
