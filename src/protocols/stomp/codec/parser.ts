/**
 * Incremental STOMP frame parser: `COMMAND EOL *(header EOL) EOL body NUL *(EOL)`, EOL being LF
 * or CR LF. Bytes arrive in any split; memory stays bounded by the limits: header lines are
 * checked while they accumulate, a `content-length` over the body limit is refused before any
 * body byte is kept, and a body without one is refused as soon as it passes the limit without
 * its NUL. EOLs between frames are heart-beats and are skipped.
 */
import { BODY_COMMANDS, CLIENT_COMMANDS, EMPTY_BODY, Escaping, StompFrame, type StompHeaders } from './frame.js';
import { unescapeHeader } from './escape.js';
import { malformed, tooLarge, type StompError } from '../errors.js';

export interface ParserLimits {
  /** headers per frame */
  maxHeaders: number;
  /** bytes per header line (and for the command line) */
  maxHeaderLength: number;
  /** bytes per body */
  maxBody: number;
}

/** Receives each whole frame; returns false to stop parsing (the rest is kept for resume()). */
export type FrameSink = (frame: StompFrame) => boolean;

const enum State {
  Head = 0,
  /** reading exactly `bodyLength` bytes, then the NUL */
  BodyLength = 1,
  /** reading up to the NUL */
  BodyNul = 2,
}

const LF = 0x0a;
const CR = 0x0d;
const CR_BYTE = Buffer.from([CR]);
const NUL = 0x00;
const COLON = 0x3a;

export class FrameParser {
  /** Escaping of the frames after CONNECT; set when the version is negotiated. */
  escaping: Escaping = Escaping.None;
  /**
   * Most bytes of one whole frame (head and body) and the flag that sets it, while a smaller
   * bound than the others holds: the CONNECT frame before login (--max-connect-size).
   */
  frameLimit: { readonly bytes: number; readonly flag: string } | null = null;
  /** Which commands are accepted (the server's; tests may parse server frames). */
  commands: ReadonlySet<string> = CLIENT_COMMANDS;
  private readonly limits: ParserLimits;
  private state = State.Head;
  /** Unfinished head bytes (copied: the chunk they came in may be reused). */
  private head: Buffer | null = null;
  /** A chunk ended in a lone CR between frames: a CR LF heart-beat, or the start of a command line. */
  private pendingCr = false;
  /** Where scanning for the next LF resumes within the head. */
  private scanFrom = 0;
  private lines = 0;
  private command = '';
  private headers: StompHeaders | null = null;
  private body: Buffer | null = null;
  private bodyParts: Buffer[] | null = null;
  private bodyLength = 0;
  private bodyFilled = 0;
  /** Bytes of the current frame's head (for frameLimit). */
  private headBytes = 0;
  /** Bytes left unparsed when the sink asked to stop. */
  private paused: Buffer | null = null;
  private stopped = false;

  constructor(limits: ParserLimits) {
    this.limits = limits;
  }

  /** Parses what `chunk` completes; throws StompError on the first bad frame. */
  feed(chunk: Buffer, sink: FrameSink): void {
    if (this.stopped) {
      // The sink is still busy with a frame (authentication): keep the bytes for resume().
      if (chunk.length > 0) this.paused = this.paused === null ? Buffer.from(chunk) : Buffer.concat([this.paused, chunk]);
      return;
    }
    let buf = chunk;
    if (this.paused !== null) {
      buf = chunk.length === 0 ? this.paused : Buffer.concat([this.paused, chunk]);
      this.paused = null;
    }
    let pos = 0;
    const end = buf.length;
    while (pos < end) {
      let frame: StompFrame | null = null;
      if (this.state === State.Head) {
        pos = this.readHead(buf, pos);
        if (this.state === State.Head) return; // needs more bytes
        continue;
      }
      if (this.state === State.BodyLength) {
        const want = this.bodyLength - this.bodyFilled;
        const take = Math.min(want, end - pos);
        if (take > 0) {
          buf.copy(this.body!, this.bodyFilled, pos, pos + take);
          this.bodyFilled += take;
          pos += take;
        }
        if (this.bodyFilled < this.bodyLength || pos >= end) continue;
        if (buf[pos] !== NUL) {
          throw malformed(`${this.command} body is longer than its content-length of ${this.bodyLength} bytes (no NUL after the body)`);
        }
        pos++;
        frame = this.finish(this.body!);
      } else {
        const nul = buf.indexOf(NUL, pos);
        const stop = nul === -1 ? end : nul;
        const size = this.bodyFilled + (stop - pos);
        if (size > this.limits.maxBody) {
          throw tooLarge(`${this.command} body exceeds --stomp-max-body of ${this.limits.maxBody} bytes`);
        }
        this.checkFrameSize(this.headBytes + size);
        if (nul === -1) {
          if (stop > pos) {
            (this.bodyParts ??= []).push(Buffer.from(buf.subarray(pos, stop)));
            this.bodyFilled = size;
          }
          return;
        }
        const last = buf.subarray(pos, nul);
        let body: Buffer;
        if (this.bodyParts === null) body = last.length === 0 ? EMPTY_BODY : Buffer.from(last);
        else {
          this.bodyParts.push(last);
          body = Buffer.concat(this.bodyParts, size);
        }
        pos = nul + 1;
        frame = this.finish(body);
      }
      if (!sink(frame)) {
        this.stopped = true;
        if (pos < end) this.paused = Buffer.from(buf.subarray(pos));
        return;
      }
    }
  }

  /** Keeps `chunk` unparsed until resume() (the connection is paused). */
  hold(chunk: Buffer): void {
    this.stopped = true;
    if (chunk.length > 0) this.paused = this.paused === null ? Buffer.from(chunk) : Buffer.concat([this.paused, chunk]);
  }

  /** Parses what was kept when the sink stopped, with no new bytes. */
  resume(sink: FrameSink): void {
    this.stopped = false;
    if (this.paused !== null) this.feed(EMPTY_BODY, sink);
  }

  /** Bytes kept: an unfinished frame's head and body, and what waits after a stop. */
  get heldBytes(): number {
    return (this.head?.length ?? 0) + (this.state === State.BodyLength ? this.bodyLength : this.bodyFilled) + (this.paused?.length ?? 0);
  }

  /** True while a frame is partly read (bytes are held). */
  get busy(): boolean {
    return this.head !== null || this.state !== State.Head || this.paused !== null;
  }

  /** Consumes head bytes from pos; returns the new position. Leaves State.Head when the head is whole. */
  private readHead(chunk: Buffer, pos: number): number {
    let buf = chunk;
    let start = pos;
    if (this.head !== null) {
      buf = Buffer.concat([this.head, chunk.subarray(pos)]);
      start = 0;
      this.head = null;
    } else {
      if (this.pendingCr) {
        this.pendingCr = false;
        if (chunk[pos] === LF)
          start = pos + 1; // a CR LF heart-beat split over two chunks
        else {
          // The CR belongs to the next line: put it back in front.
          buf = Buffer.concat([CR_BYTE, chunk.subarray(pos)]);
          start = 0;
        }
      }
      // Heart-beats (and the EOLs after a frame's NUL) before the command.
      while (start < buf.length && (buf[start] === LF || (buf[start] === CR && buf[start + 1] === LF))) start += buf[start] === LF ? 1 : 2;
      if (start === buf.length) return chunk.length;
      if (buf[start] === CR && start === buf.length - 1) {
        // Undecided until the next byte: keep it rather than drop it.
        this.pendingCr = true;
        return chunk.length;
      }
      this.scanFrom = start;
      this.lines = 0;
    }
    const limit = this.limits.maxHeaderLength;
    let lineStart = this.scanFrom;
    for (;;) {
      const nl = buf.indexOf(LF, lineStart);
      if (nl === -1) {
        if (buf.length - lineStart > limit + 1) throw this.lineTooLong();
        this.checkFrameSize(buf.length - start);
        this.scanFrom = lineStart - start;
        this.head = Buffer.from(buf.subarray(start));
        // Everything of the chunk is held in `head` now.
        return chunk.length;
      }
      let lineEnd = nl;
      if (lineEnd > lineStart && buf[lineEnd - 1] === CR) lineEnd--;
      if (lineEnd - lineStart > limit) throw this.lineTooLong();
      if (lineEnd === lineStart) {
        if (this.lines === 0) throw malformed('frame has no command');
        this.checkFrameSize(nl + 1 - start);
        this.headBytes = nl + 1 - start;
        this.parseHead(buf, start, nl + 1);
        // Position in the caller's chunk just after the blank line.
        return chunk.length - (buf.length - (nl + 1));
      }
      this.lines++;
      if (this.lines > this.limits.maxHeaders + 1) {
        throw tooLarge(`frame has more than ${this.limits.maxHeaders} headers (--stomp-max-headers)`);
      }
      lineStart = nl + 1;
    }
  }

  /** Throws when a frame of `bytes` so far passes frameLimit. */
  private checkFrameSize(bytes: number): void {
    const bound = this.frameLimit;
    if (bound !== null && bytes > bound.bytes) throw tooLarge(`${this.command === '' ? 'frame' : this.command} of more than ${bound.bytes} bytes before login (${bound.flag})`);
  }

  private lineTooLong(): StompError {
    const what = this.lines === 0 ? 'command line' : 'header line';
    return tooLarge(`${what} longer than --stomp-max-header-length of ${this.limits.maxHeaderLength} bytes`);
  }

  /** Splits the whole head [start, end) into command and headers; picks the body state. */
  private parseHead(buf: Buffer, start: number, end: number): void {
    let lineStart = start;
    let command = '';
    const headers: StompHeaders = new Map();
    while (lineStart < end) {
      const nl = buf.indexOf(LF, lineStart);
      let lineEnd = nl;
      if (lineEnd > lineStart && buf[lineEnd - 1] === CR) lineEnd--;
      if (lineEnd === lineStart) break;
      if (command === '') {
        command = buf.toString('utf8', lineStart, lineEnd);
        if (!this.commands.has(command)) {
          throw malformed(`unknown command '${command.length > 40 ? command.slice(0, 40) + '...' : command}'`);
        }
      } else {
        const colon = buf.indexOf(COLON, lineStart);
        if (colon === -1 || colon >= lineEnd) {
          throw malformed(`header line without ':' in ${command}: '${buf.toString('utf8', lineStart, Math.min(lineEnd, lineStart + 60))}'`);
        }
        // CONNECT, STOMP and CONNECTED come before a version is agreed and are never escaped.
        const mode = command === 'CONNECT' || command === 'STOMP' || command === 'CONNECTED' ? Escaping.None : this.escaping;
        const name = unescapeHeader(buf.toString('utf8', lineStart, colon), mode);
        if (!headers.has(name)) headers.set(name, unescapeHeader(buf.toString('utf8', colon + 1, lineEnd), mode));
      }
      lineStart = nl + 1;
    }
    this.command = command;
    this.headers = headers;
    const cl = headers.get('content-length');
    this.bodyParts = null;
    this.bodyFilled = 0;
    if (cl !== undefined) {
      if (!/^[0-9]{1,10}$/.test(cl)) throw malformed(`content-length '${cl}' is not a byte count`);
      const length = Number(cl);
      if (length > this.limits.maxBody) {
        throw tooLarge(`${command} content-length of ${length} bytes exceeds --stomp-max-body of ${this.limits.maxBody} bytes`);
      }
      if (length > 0 && !BODY_COMMANDS.has(command)) throw malformed(`${command} frame must not have a body`);
      this.checkFrameSize(this.headBytes + length);
      this.bodyLength = length;
      this.body = length === 0 ? EMPTY_BODY : Buffer.allocUnsafe(length);
      this.state = State.BodyLength;
    } else {
      this.state = State.BodyNul;
    }
  }

  private finish(body: Buffer): StompFrame {
    if (body.length > 0 && !BODY_COMMANDS.has(this.command)) throw malformed(`${this.command} frame must not have a body`);
    const frame = new StompFrame(this.command, this.headers!, body);
    this.state = State.Head;
    this.command = '';
    this.headers = null;
    this.body = null;
    this.bodyParts = null;
    this.bodyFilled = 0;
    this.bodyLength = 0;
    return frame;
  }
}
