/**
 * The reading half of an MQTT connection: framing. The scanner runs over each chunk (or the
 * native TCP transport runs it in Rust and hands whole frames with their records), partial
 * frames are carried over, and each packet found goes to `dispatch`; what a scan refuses goes to
 * `scanFailed`. Fair turns and the login budget apply here, per packet.
 */
import { ConnectionShell, Pause, Phase } from '../../gateway/shell.js';
import type { GatewayContext } from '../../gateway/context.js';
import { PUBLISH_COST, TURN_BUDGET, takeLogin } from '../../gateway/turns.js';
import type { Link } from '../../transports/link.js';
import type { ProtocolVersion } from './codec/packets.js';
import { PacketType } from './codec/constants.js';
import { SCAN_FLAGS, SCAN_HEADER, SCAN_LENGTH, SCAN_OFFSET, SCAN_STRIDE, SCAN_TYPE } from './codec/scanner.js';
import type { MqttConfig } from './protocol.js';

// One scan result array for every connection (scanning never re-enters): a turn of PUBLISHes.
const SCAN_CAPACITY = TURN_BUDGET / PUBLISH_COST;
const scanOut = new Uint32Array(SCAN_HEADER + SCAN_STRIDE * SCAN_CAPACITY);
/** Set by handleRecords when it stopped after a CONNECT (read right after the call). */
let stoppedAtConnect = false;

export abstract class MqttFrameReader extends ConnectionShell {
  readonly config: MqttConfig;
  version: ProtocolVersion = 4;
  /** What waits to be read: a partial frame, or the rest of a chunk while paused. */
  protected pending: Buffer | null = null;

  constructor(link: Link, kit: GatewayContext, config: MqttConfig) {
    super(link, kit, config.connectTimeoutMs);
    this.config = config;
  }

  /** Decodes and handles one packet (record `index` of `scan`). */
  protected abstract dispatch(type: number, flags: number, buf: Buffer, start: number, end: number, scan: Uint32Array, index: number): void;
  /** A packet threw while handled: ends the connection in the protocol's words. */
  abstract fail(err: unknown): void;
  /** The scan refused what arrived at `at` (SCAN_ERR_*): the connection ends. */
  protected abstract scanFailed(error: number, detail: number, buf: Buffer, at: number, end: number): void;

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
      this.touch();
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
    this.touch();
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
    this.touch();
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
        this.scanFailed(error, detail, buf, next, end);
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
        this.dispatch(type, scan[at + SCAN_FLAGS]!, buf, offset, offset + length, scan, i);
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
  protected get connectLimit(): number {
    return Math.min(this.config.maxPacketSize, this.kit.options.maxConnectSize);
  }

  protected override loginBytesHeld(): number {
    return this.pending === null ? 0 : this.pending.length;
  }

  protected override released(): void {
    this.pending = null;
  }
}
