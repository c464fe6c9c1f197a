/**
 * Typed access to a JSON body given by a backend (downlink) or a test (uplink encoding). Every
 * missing or mistyped field throws Jt808InputError naming the field and what it must be, so a
 * bad command is dropped with a reason the backend can act on.
 */
import { Jt808InputError } from './errors.js';

/** A parsed JSON object. */
export type JsonObject = { [key: string]: unknown };

/** True for a plain JSON object (not an array or null). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class Fields {
  readonly obj: JsonObject;
  /** Path shown in errors, e.g. "body" or "body.params[2]". */
  readonly where: string;

  constructor(obj: JsonObject, where: string) {
    this.obj = obj;
    this.where = where;
  }

  /** Wraps `value`, which must be a JSON object. */
  static of(value: unknown, where: string): Fields {
    if (!isJsonObject(value)) throw new Jt808InputError(`${where} must be a JSON object`);
    return new Fields(value, where);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  /** An integer in [0, max]; `dflt` when absent (if given). */
  uint(key: string, max: number, dflt?: number): number {
    return this.int(key, 0, max, dflt);
  }

  int(key: string, min: number, max: number, dflt?: number): number {
    const v = this.obj[key];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new Jt808InputError(`${this.where}.${key} must be an integer ${min}..${max}${v === undefined ? ' (missing)' : ''}`);
    }
    return v;
  }

  str(key: string, dflt?: string): string {
    const v = this.obj[key];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'string') throw new Jt808InputError(`${this.where}.${key} must be a string${v === undefined ? ' (missing)' : ''}`);
    return v;
  }

  /** A base64 string, decoded. */
  b64(key: string, dflt?: Buffer): Buffer {
    const v = this.obj[key];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'string' || v.length % 4 !== 0 || !BASE64.test(v)) {
      throw new Jt808InputError(`${this.where}.${key} must be base64${v === undefined ? ' (missing)' : ''}`);
    }
    return Buffer.from(v, 'base64');
  }

  list(key: string, maxItems: number): unknown[] {
    const v = this.obj[key];
    if (!Array.isArray(v)) throw new Jt808InputError(`${this.where}.${key} must be an array${v === undefined ? ' (missing)' : ''}`);
    if (v.length > maxItems) throw new Jt808InputError(`${this.where}.${key} has ${v.length} items, at most ${maxItems} fit`);
    return v;
  }

  /** Items of a list as Fields (each must be an object). */
  objects(key: string, maxItems: number): Fields[] {
    return this.list(key, maxItems).map((item, i) => Fields.of(item, `${this.where}.${key}[${i}]`));
  }

  /** Integers of a list, each in [0, max]. */
  uints(key: string, maxItems: number, max: number): number[] {
    return this.list(key, maxItems).map((item, i) => {
      if (typeof item !== 'number' || !Number.isInteger(item) || item < 0 || item > max) {
        throw new Jt808InputError(`${this.where}.${key}[${i}] must be an integer 0..${max}`);
      }
      return item;
    });
  }

  /** A nested object. */
  sub(key: string): Fields {
    return Fields.of(this.obj[key], `${this.where}.${key}`);
  }
}
