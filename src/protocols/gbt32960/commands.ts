/**
 * Downlink commands of one vehicle: one in flight at a time (the vehicle answers with the same
 * command byte), a bounded queue behind it, and resends of an unanswered command every retry
 * interval until the retries run out (EMQX's behaviour). Deadlines live in the connection's
 * single timer-wheel entry: this class only says when it next needs waking.
 */
import type { DownlinkCommand } from './codec/downlink.js';

interface InFlight {
  readonly command: DownlinkCommand;
  retriesLeft: number;
  deadline: number;
}

/** What the queue needs from its connection. */
export interface CommandWriter {
  writeCommand(frame: Buffer): void;
  commandDropped(command: number, why: string): void;
}

export class CommandQueue {
  private inFlight: InFlight | null = null;
  private readonly waiting: DownlinkCommand[] = [];

  constructor(
    private readonly writer: CommandWriter,
    private readonly maxQueued: number,
    private readonly retryIntervalMs: number,
    private readonly maxRetries: number,
  ) {}

  /** Sends now or queues; false when the queue is full (the command is dropped). */
  offer(command: DownlinkCommand, now: number): boolean {
    if (this.inFlight === null) {
      this.start(command, now);
      return true;
    }
    if (this.waiting.length >= this.maxQueued) return false;
    this.waiting.push(command);
    return true;
  }

  /** The vehicle answered `command`: the one in flight (if it matches) is done, the next goes out. */
  answered(command: number, now: number): boolean {
    const current = this.inFlight;
    if (current === null || current.command.command !== command) return false;
    this.inFlight = null;
    this.next(now);
    return true;
  }

  /** Resends or gives up on an overdue command; returns the next deadline (0 = none). */
  onTimer(now: number): number {
    const current = this.inFlight;
    if (current === null) return 0;
    if (now >= current.deadline) {
      if (current.retriesLeft > 0) {
        current.retriesLeft--;
        current.deadline = now + this.retryIntervalMs;
        this.writer.writeCommand(current.command.frame);
      } else {
        this.inFlight = null;
        this.writer.commandDropped(current.command.command, `no answer after ${this.maxRetries} resends`);
        this.next(now);
      }
    }
    return this.deadline;
  }

  /** When the command in flight is next due (0 = nothing in flight). */
  get deadline(): number {
    return this.inFlight === null ? 0 : this.inFlight.deadline;
  }

  get queued(): number {
    return this.waiting.length;
  }

  clear(): void {
    this.inFlight = null;
    this.waiting.length = 0;
  }

  private next(now: number): void {
    const command = this.waiting.shift();
    if (command !== undefined) this.start(command, now);
  }

  private start(command: DownlinkCommand, now: number): void {
    this.inFlight = { command, retriesLeft: this.maxRetries, deadline: now + this.retryIntervalMs };
    this.writer.writeCommand(command.frame);
  }
}
