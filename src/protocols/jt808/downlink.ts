/**
 * Downlink commands of a terminal, as the gateway's command window holds them: commands that
 * expect a reply (8103 -> 0001, 8104 -> 0104, 8201 -> 0201, 8500 -> 0500, ...) wait in the
 * window of --jt808-max-inflight and are re-sent with the same msg_sn; commands that need no
 * reply (8001, 8003, 8004, 8100, 8800) go out at once. A terminal may answer any command with
 * 0001 {seq, id} (e.g. result 3, unsupported): that ends it too.
 */
import type { Message } from '../../core/message.js';
import { WindowedCommand } from '../../gateway/command-window.js';
import { MsgId } from './codec/message-ids.js';

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
function expectedReply(msgId: number): number {
  return EXPECTED_REPLY.get(msgId) ?? 0;
}

/** One command on its way to a terminal. */
export class Jt808Command extends WindowedCommand {
  /** The uplink message id that answers it (0: none). */
  readonly reply: number;

  constructor(
    readonly msgId: number,
    readonly msgSn: number,
    bytes: Buffer,
    /** The message it came from (reported when dropped). */
    readonly msg: Message,
  ) {
    const reply = expectedReply(msgId);
    super(bytes, reply !== 0);
    this.reply = reply;
  }

  /** True when uplink `replyId` (with serial `seq`, naming command `answeredId` if a 0001) answers it. */
  answeredBy(replyId: number, seq: number, answeredId: number): boolean {
    if (replyId === MsgId.TerminalResponse) return this.msgSn === seq && this.msgId === answeredId;
    return this.reply === replyId && (REPLY_WITHOUT_SEQ.has(replyId) || this.msgSn === seq);
  }
}
