/**
 * Bounds-checked big-endian reads over one data unit. Running past the end throws a
 * DecodeError naming the field, which the decoders turn into the `Error` of the published JSON.
 */

/** A data unit that does not hold what its command or information type needs. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** The collection time of every data unit: YY MM DD hh mm ss, as EMQX's JSON spells it. */
export interface Gbt32960Time {
  Year: number;
  Month: number;
  Day: number;
  Hour: number;
  Minute: number;
  Second: number;
}

export class Reader {
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Fails with `what` unless n more bytes are there. */
  need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw new DecodeError(`truncated ${what}: needs ${n} bytes at offset ${this.pos}, ${this.end - this.pos} left`);
    }
  }

  u8(what: string): number {
    if (this.pos >= this.end) this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what: string): number {
    if (this.end - this.pos < 2) this.need(2, what);
    const b = this.buf;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    if (this.end - this.pos < 4) this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A view (no copy) of the next n bytes. */
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** The next n bytes as text (latin1 keeps every byte; codes and ICCIDs are ASCII). */
  text(n: number, what: string): string {
    this.need(n, what);
    const v = this.buf.toString('latin1', this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  time(): Gbt32960Time {
    this.need(6, 'collection time');
    const b = this.buf;
    const p = this.pos;
    this.pos += 6;
    return { Year: b[p]!, Month: b[p + 1]!, Day: b[p + 2]!, Hour: b[p + 3]!, Minute: b[p + 4]!, Second: b[p + 5]! };
  }
}

/** Writes a Gbt32960Time as its 6 bytes at `at`. */
export function writeTime(out: Buffer, at: number, t: Gbt32960Time): void {
  out[at] = t.Year;
  out[at + 1] = t.Month;
  out[at + 2] = t.Day;
  out[at + 3] = t.Hour;
  out[at + 4] = t.Minute;
  out[at + 5] = t.Second;
}

/** The wall-clock time at a UTC offset (the standard uses Beijing time, +480 minutes). */
export function timeAt(epochMs: number, utcOffsetMinutes: number): Gbt32960Time {
  const d = new Date(epochMs + utcOffsetMinutes * 60_000);
  return {
    Year: d.getUTCFullYear() % 100,
    Month: d.getUTCMonth() + 1,
    Day: d.getUTCDate(),
    Hour: d.getUTCHours(),
    Minute: d.getUTCMinutes(),
    Second: d.getUTCSeconds(),
  };
}
