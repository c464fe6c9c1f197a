/**
 * Reassembly of messages split into packets (attribute bit 13). Packets of one message carry
 * consecutive msg_sn values and indexes 1..total, so (msg id, msg_sn of packet 1) names the
 * message. Bounded twice: at most `maxParts` packets held per terminal (the oldest unfinished
 * message is dropped to make room) and each message must complete within `timeoutMs`.
 */
import type { Jt808Header } from './header.js';

class PendingMessage {
  readonly parts: Array<Buffer | undefined>;
  received = 0;
  bytes = 0;
  constructor(
    readonly key: number,
    public first: Jt808Header,
    readonly deadline: number,
    total: number,
  ) {
    this.parts = new Array<Buffer | undefined>(total);
  }
}

/** Why a packet was not taken. */
export const enum SplitRefusal {
  /** more packets than --jt808-max-split-parts in one message */
  TooManyParts = 1,
  /** index 0 or above the total */
  BadIndex = 2,
}

/** A completed message: the first packet's header (len = whole body) and the joined body. */
export interface Reassembled {
  header: Jt808Header;
  body: Buffer;
}

export class Reassembler {
  private readonly maxParts: number;
  private readonly timeoutMs: number;
  // Created on the first split packet: most terminals never split.
  private pending: Map<number, PendingMessage> | null = null;
  private heldParts = 0;
  /** Messages dropped unfinished (timeout or room), for metrics and logs. */
  dropped = 0;

  constructor(maxParts: number, timeoutMs: number) {
    this.maxParts = maxParts;
    this.timeoutMs = timeoutMs;
  }

  /** Packets held now. */
  get held(): number {
    return this.heldParts;
  }

  /**
   * Adds one packet (its body is copied). Returns the whole message once every packet is in,
   * null while waiting, or a SplitRefusal.
   */
  add(h: Jt808Header, body: Buffer, now: number): Reassembled | null | SplitRefusal {
    const total = h.fragTotal;
    const index = h.fragSn;
    if (index < 1 || index > total) return SplitRefusal.BadIndex;
    if (total > this.maxParts) return SplitRefusal.TooManyParts;
    const firstSn = (h.msgSn - (index - 1)) & 0xffff;
    const key = h.msgId * 0x10000 + firstSn;
    const map = this.pending ?? (this.pending = new Map());
    let msg = map.get(key);
    if (msg !== undefined && msg.parts.length !== total) {
      this.drop(msg);
      msg = undefined;
    }
    if (msg === undefined) {
      msg = new PendingMessage(key, { ...h, msgSn: firstSn, fragSn: 1 }, now + this.timeoutMs, total);
      map.set(key, msg);
    }
    const previous = msg.parts[index - 1];
    if (previous === undefined) {
      // Make room by dropping other unfinished messages, oldest first. The current one always
      // fits: it holds fewer than `total` <= maxParts packets.
      while (this.heldParts + 1 > this.maxParts) {
        let victim: PendingMessage | undefined;
        for (const other of map.values()) {
          if (other !== msg) {
            victim = other;
            break;
          }
        }
        if (victim === undefined) break;
        this.drop(victim);
      }
      msg.received++;
      this.heldParts++;
    } else {
      msg.bytes -= previous.length;
    }
    msg.parts[index - 1] = Buffer.from(body);
    msg.bytes += body.length;
    if (index === 1) msg.first = { ...h, msgSn: firstSn, fragSn: 1 };
    if (msg.received < total) return null;
    map.delete(key);
    this.heldParts -= total;
    const joined = Buffer.concat(msg.parts as Buffer[], msg.bytes);
    return { header: { ...msg.first, bodyLength: joined.length }, body: joined };
  }

  /** Drops messages past their deadline; returns the earliest deadline left (0 = none). */
  expire(now: number): number {
    const map = this.pending;
    if (map === null) return 0;
    let next = 0;
    for (const msg of map.values()) {
      if (msg.deadline <= now) this.drop(msg);
      else if (next === 0 || msg.deadline < next) next = msg.deadline;
    }
    return next;
  }

  /** The earliest deadline of an unfinished message (0 = none). */
  nextDeadline(): number {
    const map = this.pending;
    if (map === null) return 0;
    let next = 0;
    for (const msg of map.values()) if (next === 0 || msg.deadline < next) next = msg.deadline;
    return next;
  }

  /** Forgets everything (connection closed). */
  clear(): void {
    this.pending = null;
    this.heldParts = 0;
  }

  private drop(msg: PendingMessage): void {
    this.pending!.delete(msg.key);
    this.heldParts -= msg.received;
    this.dropped++;
  }
}
