/**
 * A seeded byte mutator in the style of libFuzzer's: each mutated input stacks one to four
 * edits on a seed (bit flips, interesting values at length fields, varint stretching,
 * inserts, deletes, duplicated ranges, splices with another seed), so every run is
 * reproducible from its --seed.
 */

/** xorshift32: small, fast and reproducible; quality is ample for picking mutations. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }
}

const INTERESTING_8 = [0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x10, 0x20, 0x30, 0x3f, 0xc0, 0xe0, 0xf0];
const INTERESTING_16 = [0x0000, 0x0001, 0x7fff, 0x8000, 0xfffe, 0xffff, 0x00ff, 0x0100];
// Remaining-length and property-length shapes: 4-byte maximum, 5-byte overlong, non-minimal.
const VARINTS = [[0xff, 0xff, 0xff, 0x7f], [0xff, 0xff, 0xff, 0xff, 0x01], [0x80, 0x00], [0x80, 0x80, 0x80, 0x00], [0x00], [0x7f]];

/** Mutates seeds into new inputs no longer than maxSize. */
export class Mutator {
  constructor(
    readonly rng: Rng,
    readonly maxSize: number,
  ) {}

  /** One new input from `seed`, sometimes spliced with `other`. */
  mutate(seed: Buffer, other: Buffer): Buffer {
    let b: Buffer = Buffer.from(seed.length === 0 ? Buffer.of(0) : seed);
    const edits = 1 + this.rng.below(4);
    for (let i = 0; i < edits; i++) b = this.edit(b, other);
    return b.length > this.maxSize ? b.subarray(0, this.maxSize) : b;
  }

  private edit(b: Buffer, other: Buffer): Buffer {
    const r = this.rng;
    const len = b.length;
    const at = r.below(len);
    switch (r.below(12)) {
      case 0: // flip one bit
        if (len > 0) b[at] ^= 1 << r.below(8);
        return b;
      case 1: // random byte
        if (len > 0) b[at] = r.below(256);
        return b;
      case 2: // interesting byte (flags nibble values, length edges)
        if (len > 0) b[at] = INTERESTING_8[r.below(INTERESTING_8.length)]!;
        return b;
      case 3: // interesting 16-bit value, e.g. a string or topic length
        if (len > 1) b.writeUInt16BE(INTERESTING_16[r.below(INTERESTING_16.length)]!, r.below(len - 1));
        return b;
      case 4: // nudge a 16-bit field by a little
        if (len > 1) {
          const p = r.below(len - 1);
          b.writeUInt16BE((b.readUInt16BE(p) + r.below(9) - 4) & 0xffff, p);
        }
        return b;
      case 5: // delete a range
        return len > 1 ? Buffer.concat([b.subarray(0, at), b.subarray(Math.min(len, at + 1 + r.below(16)))]) : b;
      case 6: {
        // insert random bytes
        const n = 1 + r.below(16);
        const ins = Buffer.alloc(n);
        for (let i = 0; i < n; i++) ins[i] = r.below(256);
        return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
      }
      case 7: {
        // duplicate a range (repeated packets, repeated properties)
        const start = r.below(len);
        const end = Math.min(len, start + 1 + r.below(64));
        return Buffer.concat([b.subarray(0, end), b.subarray(start, end), b.subarray(end)]);
      }
      case 8: {
        // splice with another input
        const cut = r.below(other.length + 1);
        return Buffer.concat([b.subarray(0, at), other.subarray(cut)]);
      }
      case 9: {
        // overwrite with a varint shape
        const v = VARINTS[r.below(VARINTS.length)]!;
        return Buffer.concat([b.subarray(0, at), Buffer.from(v), b.subarray(Math.min(len, at + 1 + r.below(4)))]);
      }
      case 10: // truncate
        return b.subarray(0, r.below(len + 1));
      default: {
        // append a copy of the whole input (pipelined frames)
        return Buffer.concat([b, b.subarray(0, Math.min(len, 512))]);
      }
    }
  }
}
