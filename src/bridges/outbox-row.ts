/**
 * The bytes of one outbox row: the records a bridge took in one turn, back to back. Written by
 * hand because the row is on the path of every forwarded message: one growing buffer per turn
 * costs a few hundred nanoseconds a record, against about a microsecond for msgpack's records
 * with shared structures, and the store then copies one byte string.
 *
 * A record: u8 flags (1 = a key, 2 = headers), u16 rule, f64 accepted at (ms), the target, the
 * key when flagged, the value, and when flagged a u32 count of headers and each name and value.
 * Strings are UTF-8 and, like the value, prefixed by their u32 length. Little endian.
 */
import type { OutRecord } from './backend.js';

const HAS_KEY = 1;
const HAS_HEADERS = 2;
const INITIAL_SIZE = 16 * 1024;

/** Collects the records of one turn; take() hands their row and starts the next. */
export class RowWriter {
  private buf = Buffer.allocUnsafe(INITIAL_SIZE);
  private used = 0;
  count = 0;

  add(r: OutRecord): void {
    const headers = r.headers;
    this.room(15);
    const buf = this.buf;
    let at = this.used;
    buf[at] = (r.key === null ? 0 : HAS_KEY) | (headers === null || headers.length === 0 ? 0 : HAS_HEADERS);
    buf.writeUInt16LE(r.rule, at + 1);
    buf.writeDoubleLE(r.at, at + 3);
    this.used = at + 11;
    this.string(r.to);
    if (r.key !== null) this.string(r.key);
    this.room(4 + r.value.length);
    at = this.used;
    this.buf.writeUInt32LE(r.value.length, at);
    r.value.copy(this.buf, at + 4);
    this.used = at + 4 + r.value.length;
    if (headers !== null && headers.length > 0) {
      this.room(4);
      this.buf.writeUInt32LE(headers.length, this.used);
      this.used += 4;
      for (const [name, value] of headers) {
        this.string(name);
        this.string(value);
      }
    }
    this.count++;
  }

  /** The row of the records added since the last take (a copy: the store keeps it as given). */
  take(): Buffer {
    const row = Buffer.from(this.buf.subarray(0, this.used));
    this.used = 0;
    this.count = 0;
    return row;
  }

  private string(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.room(4 + s.length * 3);
    const at = this.used;
    const n = this.buf.write(s, at + 4, 'utf8');
    this.buf.writeUInt32LE(n, at);
    this.used = at + 4 + n;
  }

  private room(bytes: number): void {
    if (this.used + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.used + bytes) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buf.copy(bigger, 0, 0, this.used);
    this.buf = bigger;
  }
}

/** The records of a row, in order; values are views on the row's bytes. Throws RangeError on a truncated row. */
export function readRow(bytes: Uint8Array): OutRecord[] {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: OutRecord[] = [];
  let at = 0;
  const take = (n: number): number => {
    const start = at;
    at += n;
    if (at > buf.length) throw new RangeError(`outbox row truncated at byte ${start} of ${buf.length}`);
    return start;
  };
  const bytesOf = (): Buffer => {
    const n = buf.readUInt32LE(take(4));
    const start = take(n);
    return buf.subarray(start, start + n);
  };
  const string = (): string => bytesOf().toString('utf8');
  while (at < buf.length) {
    const head = take(11);
    const flags = buf[head]!;
    const rule = buf.readUInt16LE(head + 1);
    const accepted = buf.readDoubleLE(head + 3);
    const to = string();
    const key = flags & HAS_KEY ? string() : null;
    const value = bytesOf();
    let headers: Array<[string, string]> | null = null;
    if (flags & HAS_HEADERS) {
      const n = buf.readUInt32LE(take(4));
      headers = [];
      for (let i = 0; i < n; i++) headers.push([string(), string()]);
    }
    out.push({ to, key, value, headers, at: accepted, rule });
  }
  return out;
}
