/**
 * JSON-lines logger. One line per call: {"time","level","msg", ...fields}. Lines are written with
 * fs.writeSync (no buffer), so the last lines before process.exit or a crash are never lost; a
 * broker logs at a rate where a synchronous write per line costs nothing that matters.
 * Secrets never reach the log: fields whose name contains a secret-ish word are redacted at
 * every depth, errors become {name, code, message} and buffers only show their length.
 */

import { writeSync } from 'node:fs';

/** Severity of one line, most severe first. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** What --log-level accepts: a level, or 'silent' to write nothing. */
export type LogThreshold = LogLevel | 'silent';

/** Every value --log-level accepts, most severe first. */
export const LOG_THRESHOLDS: readonly LogThreshold[] = ['error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Fields attached to a line; values are rendered safely (see renderValue). */
export type LogFields = Readonly<Record<string, unknown>>;

/** Anything with a write(string) method (a test sink, a file stream), or a file descriptor. */
export type LogDestination = number | { write(line: string): unknown };

/** Options for a root Logger. */
export interface LoggerOptions {
  /** Lines below this level are dropped; default 'info'. */
  level?: LogThreshold;
  /** Where lines go; default file descriptor 1 (stdout), written synchronously. */
  destination?: LogDestination;
  /** Fields on every line of this logger and its children. */
  fields?: LogFields;
  /** Source of timestamps; tests pin it. */
  clock?: () => Date;
}

const SEVERITY: Readonly<Record<LogThreshold, number>> = {
  silent: -1,
  error: 0,
  warn: 1,
  info: 2,
  debug: 3,
  trace: 4,
};

/** Words that mark a field as secret, matched against each word of its name (apiKey, api_key). */
const SECRET_WORDS: ReadonlySet<string> = new Set(['password', 'passcode', 'secret', 'token', 'authorization', 'key']);

const REDACTED = '[redacted]';
/** Deeper structures are summarised: log fields are meant to be flat, and this bounds cycles. */
const MAX_DEPTH = 3;
const RESERVED: ReadonlySet<string> = new Set(['time', 'level', 'msg']);

/** True when a field name, split into words at camelCase and -_. boundaries, holds a secret word. */
export function isSecretFieldName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[\s_\-.:]+/);
  for (const word of words) if (SECRET_WORDS.has(word)) return true;
  return false;
}

/** Renders one field value into something JSON.stringify writes safely and without secrets. */
export function renderValue(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, code: code === undefined ? undefined : renderValue(code, MAX_DEPTH), message: value.message };
  }
  if (value instanceof Uint8Array) return `<buffer ${value.byteLength} bytes>`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? '[array]' : '[object]';
  if (Array.isArray(value)) return value.map((item) => renderValue(item, depth + 1));
  return renderObject(value as Record<string, unknown>, depth + 1);
}

function renderObject(fields: Readonly<Record<string, unknown>>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(fields)) {
    out[name] = isSecretFieldName(name) ? REDACTED : renderValue(fields[name], depth);
  }
  return out;
}

/** Shared by a root logger and all its children, so setLevel on any of them applies to all. */
interface LoggerCore {
  severity: number;
  readonly write: (line: string) => void;
  readonly clock: () => Date;
}

function writerFor(destination: LogDestination): (line: string) => void {
  if (typeof destination !== 'number') {
    return (line) => {
      try {
        destination.write(line);
      } catch {
        // A broken log sink must not take the broker down with it.
      }
    };
  }
  return (line) => writeFully(destination, encoder.encode(line));
}

const pause = new Int32Array(new SharedArrayBuffer(4));
const encoder = new TextEncoder();

/** Writes all bytes; a non-blocking pipe may take them in parts or answer EAGAIN for a moment. */
function writeFully(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  let retries = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
      retries = 0;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN' && retries++ < 100) {
        // Wait 1 ms for the reader; at most ~100 ms per line, then the line is dropped.
        Atomics.wait(pause, 0, 0, 1);
        continue;
      }
      // EPIPE (reader gone) or a reader stuck for good: drop the line rather than crash or hang.
      return;
    }
  }
}

/** Writes JSON lines at or above a threshold level; see the file header for the guarantees. */
export class Logger {
  #core: LoggerCore;
  /** This logger's fixed fields, already rendered and redacted. */
  #fields: Readonly<Record<string, unknown>>;

  constructor(options: LoggerOptions = {}) {
    this.#core = {
      severity: SEVERITY[options.level ?? 'info'],
      write: writerFor(options.destination ?? 1),
      clock: options.clock ?? (() => new Date()),
    };
    this.#fields = options.fields ? renderObject(options.fields, 1) : {};
  }

  /** A logger writing to the same place at the same level, adding `fields` to every line. */
  child(fields: LogFields): Logger {
    const child = new Logger({ level: 'silent' });
    child.#core = this.#core;
    child.#fields = { ...this.#fields, ...renderObject(fields, 1) };
    return child;
  }

  /** Changes the threshold of this logger, its parent and all their children. */
  setLevel(level: LogThreshold): void {
    this.#core.severity = SEVERITY[level];
  }

  /** The current threshold. */
  get level(): LogThreshold {
    for (const name of LOG_THRESHOLDS) if (SEVERITY[name] === this.#core.severity) return name;
    return 'silent';
  }

  /** True when a line at `level` would be written; guard costly debug and trace lines with it. */
  enabled(level: LogLevel): boolean {
    return SEVERITY[level] <= this.#core.severity;
  }

  /** Logs at error level. */
  error(msg: string, fields?: LogFields): void {
    if (this.#core.severity >= 0) this.#emit('error', msg, fields);
  }

  /** Logs at warn level. */
  warn(msg: string, fields?: LogFields): void {
    if (this.#core.severity >= 1) this.#emit('warn', msg, fields);
  }

  /** Logs at info level. */
  info(msg: string, fields?: LogFields): void {
    if (this.#core.severity >= 2) this.#emit('info', msg, fields);
  }

  /** Logs at debug level. */
  debug(msg: string, fields?: LogFields): void {
    if (this.#core.severity >= 3) this.#emit('debug', msg, fields);
  }

  /** Logs at trace level. */
  trace(msg: string, fields?: LogFields): void {
    if (this.#core.severity >= 4) this.#emit('trace', msg, fields);
  }

  #emit(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    const line: Record<string, unknown> = { time: this.#core.clock().toISOString(), level, msg };
    copyFields(line, this.#fields);
    if (fields) copyFields(line, renderObject(fields, 1));
    let text: string;
    try {
      text = JSON.stringify(line);
    } catch {
      text = JSON.stringify({ time: line.time, level, msg, logError: 'fields could not be serialised' });
    }
    this.#core.write(text + '\n');
  }
}

/** Copies fields into a line; a field named time, level or msg is written as _time etc. so it cannot forge them. */
function copyFields(line: Record<string, unknown>, fields: Readonly<Record<string, unknown>>): void {
  for (const name of Object.keys(fields)) line[RESERVED.has(name) ? `_${name}` : name] = fields[name];
}

/** Options for a LogRateLimit. */
export interface LogRateLimitOptions {
  /** Most keys tracked at once; past it, all new keys share one budget. Default 10000. */
  maxKeys?: number;
  /** Milliseconds clock; tests pin it. */
  now?: () => number;
}

interface RateWindow {
  start: number;
  count: number;
  suppressed: number;
}

const OVERFLOW_KEY = '\u0000overflow';

/**
 * Caps lines per key per second, for lines a hostile client could make us write in a loop
 * (malformed packets, refused logins). Keys are bounded too: a client choosing a new key per
 * line (a fresh client id) cannot grow the table, it lands in one shared overflow budget.
 */
export class LogRateLimit {
  readonly #perSecond: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, RateWindow>();

  constructor(perSecond: number, options: LogRateLimitOptions = {}) {
    if (!Number.isInteger(perSecond) || perSecond < 1) throw new RangeError(`perSecond must be a positive integer (got ${perSecond})`);
    this.#perSecond = perSecond;
    this.#maxKeys = options.maxKeys ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** True when a line for `key` may be written now; false counts it as suppressed. */
  allow(key: string): boolean {
    const now = this.#now();
    const window = this.#windowFor(key, now);
    if (now - window.start >= 1000) {
      window.start = now;
      window.count = 0;
    }
    if (window.count < this.#perSecond) {
      window.count++;
      return true;
    }
    window.suppressed++;
    return false;
  }

  /** How many lines for `key` were refused since the last call; resets the count. Log it with the next allowed line. */
  takeSuppressed(key: string): number {
    const window = this.#windows.get(key) ?? this.#windows.get(OVERFLOW_KEY);
    if (!window) return 0;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    return suppressed;
  }

  #windowFor(key: string, now: number): RateWindow {
    let window = this.#windows.get(key);
    if (window) return window;
    if (this.#windows.size >= this.#maxKeys) this.#sweep(now);
    if (this.#windows.size >= this.#maxKeys) key = OVERFLOW_KEY;
    window = this.#windows.get(key);
    if (!window) {
      window = { start: now, count: 0, suppressed: 0 };
      this.#windows.set(key, window);
    }
    return window;
  }

  /** Forgets keys whose window ended with nothing left to report, or whose report nobody took for a minute. */
  #sweep(now: number): void {
    for (const [key, window] of this.#windows) {
      const age = now - window.start;
      if ((age >= 1000 && window.suppressed === 0) || age >= 60_000) this.#windows.delete(key);
    }
  }
}
