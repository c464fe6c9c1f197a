/**
 * Downlink commands of one terminal. Commands that expect a reply (8103 -> 0001, 8104 -> 0104,
 * 8201 -> 0201, 8500 -> 0500, ...) are held in a window of --jt808-max-inflight, re-sent with
 * the same msg_sn every --jt808-retry-interval up to --jt808-retry-count times, then dropped
 * (reported through the sink); more wait in a queue of --jt808-max-queued. Commands that need
 * no reply (8001, 8003, 8004, 8100, 8800) go out at once. A terminal may answer any command
 * with 0001 {seq, id} (e.g. result 3, unsupported): that ends it too.
 */
import { RingQueue } from '../../../core/ring-queue.js';
import { MsgId } from '../codec/message-ids.js';

/** The reply each command waits for; commands not listed need none. */
const EXPECTED_REPLY: ReadonlyMap<number, number> = new Map([
  [MsgId.SetParams, MsgId.TerminalResponse],
  [MsgId.QueryAllParams, MsgId.QueryParamsResponse],
  [MsgId.TerminalControl, MsgId.TerminalResponse],
  [MsgId.QueryParams, MsgId.QueryParamsResponse],
  [MsgId.QueryAttributes, MsgId.QueryAttributesResponse],
  [MsgId.Upgrade, MsgId.TerminalResponse],
  [MsgId.LocationQuery, MsgId.LocationQueryResponse],
  [MsgId.TrackLocation, MsgId.TerminalResponse],
  [MsgId.ConfirmAlarm, MsgId.TerminalResponse],
  [MsgId.LinkCheck, MsgId.TerminalResponse],
  [MsgId.Text, MsgId.TerminalResponse],
  [MsgId.VehicleControl, MsgId.VehicleControlResponse],
  [MsgId.CameraShot, MsgId.CameraShotResponse],
  [MsgId.DownPassthrough, MsgId.TerminalResponse],
  [MsgId.PlatformRsaKey, MsgId.TerminalResponse],
]);

/** Replies that carry no serial number: they answer the oldest command of their kind. */
const REPLY_WITHOUT_SEQ: ReadonlySet<number> = new Set([MsgId.QueryAttributesResponse]);

/** The uplink message id a command waits for, or 0 when it needs no reply. */
export function expectedReply(msgId: number): number {
  return EXPECTED_REPLY.get(msgId) ?? 0;
}

/** One command on its way to a terminal. */
export class Command {
  readonly msgId: number;
  readonly msgSn: number;
  readonly bytes: Buffer;
  readonly reply: number;
  /** sends so far */
  attempts = 0;
  deadline = 0;

  constructor(msgId: number, msgSn: number, bytes: Buffer) {
    this.msgId = msgId;
    this.msgSn = msgSn;
    this.bytes = bytes;
    this.reply = expectedReply(msgId);
  }
}

/** Why a command was dropped (the `reason` of the $SYS event). */
export type DropReason = 'no-reply' | 'queue-full' | 'invalid' | 'offline';

/** Where the queue writes and reports. */
export interface CommandSink {
  writeCommand(bytes: Buffer): void;
  commandDropped(cmd: Command, reason: DropReason): void;
}

export interface CommandLimits {
  maxInflight: number;
  maxQueued: number;
  retryIntervalMs: number;
  retryCount: number;
}

export class CommandQueue {
  private readonly inflight: Command[] = [];
  private readonly waiting = new RingQueue<Command>();

  constructor(
    private readonly limits: CommandLimits,
    private readonly sink: CommandSink,
  ) {}

  get inflightCount(): number {
    return this.inflight.length;
  }

  get queuedCount(): number {
    return this.waiting.length;
  }

  /** Sends, queues or (queue full) drops a command; false when dropped. */
  submit(cmd: Command, now: number): boolean {
    if (cmd.reply === 0) {
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

  /**
   * An uplink message arrived: ends the command it answers. `seq` is the reply's serial number
   * (-1 when it has none) and `answeredId` the command id a 0001 names. Returns the command.
   */
  settle(replyId: number, seq: number, answeredId: number, now: number): Command | null {
    const list = this.inflight;
    for (let i = 0; i < list.length; i++) {
      const cmd = list[i]!;
      const match =
        replyId === MsgId.TerminalResponse
          ? cmd.msgSn === seq && cmd.msgId === answeredId
          : cmd.reply === replyId && (REPLY_WITHOUT_SEQ.has(replyId) || cmd.msgSn === seq);
      if (!match) continue;
      list.splice(i, 1);
      this.pump(now);
      return cmd;
    }
    return null;
  }

  /** Re-sends or drops what is overdue; returns the next deadline (0 = none). */
  onTimer(now: number): number {
    const list = this.inflight;
    let next = 0;
    for (let i = 0; i < list.length; ) {
      const cmd = list[i]!;
      if (cmd.deadline <= now) {
        if (cmd.attempts > this.limits.retryCount) {
          list.splice(i, 1);
          this.sink.commandDropped(cmd, 'no-reply');
          continue;
        }
        cmd.attempts++;
        cmd.deadline = now + this.limits.retryIntervalMs;
        this.sink.writeCommand(cmd.bytes);
      }
      if (next === 0 || cmd.deadline < next) next = cmd.deadline;
      i++;
    }
    if (list.length < this.limits.maxInflight && this.waiting.length > 0) {
      this.pump(now);
      return this.nextDeadline();
    }
    return next;
  }

  /** The earliest re-send deadline (0 = none). */
  nextDeadline(): number {
    let next = 0;
    for (const cmd of this.inflight) if (next === 0 || cmd.deadline < next) next = cmd.deadline;
    return next;
  }

  /** The terminal went away: every command still held is dropped. */
  dropAll(): void {
    const held = [...this.inflight];
    this.inflight.length = 0;
    for (let cmd = this.waiting.shift(); cmd !== undefined; cmd = this.waiting.shift()) held.push(cmd);
    for (const cmd of held) this.sink.commandDropped(cmd, 'offline');
  }

  private send(cmd: Command, now: number): void {
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
