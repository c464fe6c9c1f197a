/**
 * Downlink commands from the JSON a backend publishes on gbt32960/{vin}/dnstream (EMQX's
 * contract): {"Action": "Query", "Total", "Ids"}, {"Action": "Setting", "Total", "Params"},
 * {"Action": "Control", "Command", "Param"}. Each becomes one platform command frame stamped
 * with the current time; bad JSON is a CommandError with a message for the log.
 */
import { Command, Encryption, ResponseFlag, hexId } from './constants.js';
import { encodeFrame } from './frame.js';
import { CONTROL_COMMANDS, CommandError, encodeControlParam, encodeQueryIds, encodeSettingParams, parseId } from './params.js';
import { writeTime, type Gbt32960Time } from './reader.js';

export { CommandError };

/** A command ready to send: its frame and the command byte its answer will carry. */
export interface DownlinkCommand {
  readonly command: number;
  readonly frame: Buffer;
}

function withTime(time: Gbt32960Time, head: number, rest: Buffer): Buffer {
  const data = Buffer.allocUnsafe(7 + rest.length);
  writeTime(data, 0, time);
  data[6] = head;
  rest.copy(data, 7);
  return data;
}

/** Builds the frame for one dnstream payload; throws CommandError for anything it cannot send. */
export function buildDownlink(payload: Buffer, vin: string, time: Gbt32960Time): DownlinkCommand {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new CommandError('payload is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CommandError('payload must be a JSON object with "Action"');
  const req = json as Record<string, unknown>;
  let command: number;
  let data: Buffer;
  switch (req['Action']) {
    case 'Query': {
      const ids = encodeQueryIds(req['Ids'], req['Total']);
      command = Command.Query;
      data = withTime(time, ids.length, ids);
      break;
    }
    case 'Setting': {
      const params = encodeSettingParams(req['Params'], req['Total']);
      command = Command.Setting;
      data = withTime(time, (req['Params'] as unknown[]).length, params);
      break;
    }
    case 'Control': {
      const control = parseId(req['Command'], '"Command"');
      if (!CONTROL_COMMANDS.has(control)) throw new CommandError(`"Command" ${hexId(control)} is not a control command (0x01-0x07)`);
      command = Command.Control;
      data = withTime(time, control, encodeControlParam(control, req['Param']));
      break;
    }
    default:
      throw new CommandError(`"Action" must be "Query", "Setting" or "Control" (got ${JSON.stringify(req['Action'])})`);
  }
  if (data.length > 0xffff) throw new CommandError(`command of ${data.length} bytes does not fit a frame`);
  return { command, frame: encodeFrame(command, ResponseFlag.Command, vin, Encryption.None, data) };
}
