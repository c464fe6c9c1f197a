/**
 * The retrying window of downlink commands to one device (JT/T 808 terminals, GB/T 32960
 * vehicles). Commands that expect a reply are held in a window of `maxInflight`, re-sent with
 * the same bytes every `retryIntervalMs` up to `retries` times, then dropped (reported to the
 * sink); more wait in a queue of `maxQueued`, past which they are dropped at once. Commands that
 * expect no reply go out at once. The protocol says which reply settles which command.
 * Deadlines live in the connection's single timer-wheel entry: the window only says when it
 * next needs waking.
 */
import { RingQueue } from '../core/ring-queue.js';

/** One command on its way to a device; protocols extend it with what identifies its reply. */
export class WindowedCommand {
  /** Sends so far. */
  attempts = 0;
  deadline = 0;

  constructor(
    /** The frames to write (the same bytes on every resend). */
    readonly bytes: Buffer,
    /** False: written at once, never held for a reply. */
    readonly expectsReply: boolean,
  ) {}
}

/** Why a command will not reach its device. */
export type CommandDropReason = 'no-reply' | 'queue-full' | 'invalid' | 'offline';

/** Where the window writes and reports. */
export interface CommandSink<C extends WindowedCommand> {
  writeCommand(bytes: Buffer): void;
  commandDropped(cmd: C, reason: CommandDropReason): void;
}

export interface CommandWindowLimits {
  readonly maxInflight: number;
  readonly maxQueued: number;
  readonly retryIntervalMs: number;
  /** Resends after the first send before a command is given up. */
  readonly retries: number;
}

export class CommandWindow<C extends WindowedCommand> {
  private readonly inflight: C[] = [];
  private readonly waiting = new RingQueue<C>();

  constructor(
    private readonly limits: CommandWindowLimits,
    private readonly sink: CommandSink<C>,
  ) {}

  get inflightCount(): number {
    return this.inflight.length;
  }

  get queuedCount(): number {
    return this.waiting.length;
  }

  /** Sends, queues or (queue full) drops a command; false when dropped. */
  submit(cmd: C, now: number): boolean {
    if (!cmd.expectsReply) {
      this.sink.writeCommand(cmd.bytes);
      return true;
    }
    if (this.inflight.length < this.limits.maxInflight && this.waiting.length === 0) {
      this.send(cmd, now);
      return true;
    }
    if (this.waiting.length >= this.limits.maxQueued) {
      this.sink.commandDropped(cmd, 'queue-full');
      return false;
    }
    this.waiting.push(cmd);
    return true;
  }

  /** A reply arrived: ends the oldest command in flight it answers (the next goes out); returns it. */
  settle(answers: (cmd: C) => boolean, now: number): C | null {
    const list = this.inflight;
    for (let i = 0; i < list.length; i++) {
      const cmd = list[i]!;
      if (!answers(cmd)) continue;
      list.splice(i, 1);
      this.pump(now);
      return cmd;
    }
    return null;
  }

  /** Re-sends or drops what is overdue; returns the next deadline (0 = none). */
  onTimer(now: number): number {
    const list = this.inflight;
    for (let i = 0; i < list.length; ) {
      const cmd = list[i]!;
      if (cmd.deadline <= now) {
        if (cmd.attempts > this.limits.retries) {
          list.splice(i, 1);
          this.sink.commandDropped(cmd, 'no-reply');
          continue;
        }
        cmd.attempts++;
        cmd.deadline = now + this.limits.retryIntervalMs;
        this.sink.writeCommand(cmd.bytes);
      }
      i++;
    }
    this.pump(now);
    return this.nextDeadline();
  }

  /** The earliest resend deadline (0 = none). */
  nextDeadline(): number {
    let next = 0;
    for (const cmd of this.inflight) if (next === 0 || cmd.deadline < next) next = cmd.deadline;
    return next;
  }

  /** The device went away: every command still held is dropped and reported. */
  dropAll(): void {
    const held = this.inflight.splice(0);
    for (let cmd = this.waiting.shift(); cmd !== undefined; cmd = this.waiting.shift()) held.push(cmd);
    for (const cmd of held) this.sink.commandDropped(cmd, 'offline');
  }

  private send(cmd: C, now: number): void {
    cmd.attempts = 1;
    cmd.deadline = now + this.limits.retryIntervalMs;
    this.inflight.push(cmd);
    this.sink.writeCommand(cmd.bytes);
  }

  private pump(now: number): void {
    while (this.inflight.length < this.limits.maxInflight) {
      const next = this.waiting.shift();
      if (next === undefined) return;
      this.send(next, now);
    }
  }
}
