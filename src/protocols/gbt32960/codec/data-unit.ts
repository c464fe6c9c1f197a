/**
 * Data units by command, decoded into the `Data` object of the EMQX JSON. A unit that ends
 * early keeps the fields read so far and gains an `Error` string saying what was missing, so a
 * backend sees both the data and the fault.
 */
import { Command, hexId, isCustomCommand } from './constants.js';
import { decodeInfos } from './infos.js';
import { decodeControlParam, decodeParams } from './params.js';
import { DecodeError, Reader } from './reader.js';

/** The `Data` member of an uplink JSON message. */
export type DataUnit = Record<string, unknown>;

/** Decodes the data unit of `command` (already decrypted); never throws for bad input. */
export function decodeDataUnit(command: number, data: Buffer, scaled: boolean): DataUnit {
  const r = new Reader(data);
  const out: DataUnit = {};
  try {
    switch (command) {
      case Command.VehicleLogin: {
        out['Time'] = r.time();
        out['Seq'] = r.u16('login serial number');
        out['ICCID'] = r.text(20, 'ICCID (20 bytes)');
        const num = r.u8('rechargeable subsystem count');
        out['Num'] = num;
        const length = r.u8('rechargeable system code length');
        out['Length'] = length;
        out['Id'] = r.text(num * length, `rechargeable system codes (${num} x ${length} bytes)`);
        break;
      }
      case Command.RealtimeData:
      case Command.ResentData: {
        out['Time'] = r.time();
        const decoded = decodeInfos(r, scaled);
        out['Infos'] = decoded.infos;
        if (decoded.error !== null) out['Error'] = decoded.error;
        return out;
      }
      case Command.VehicleLogout:
      case Command.PlatformLogout:
        out['Time'] = r.time();
        out['Seq'] = r.u16('logout serial number');
        break;
      case Command.PlatformLogin:
        out['Time'] = r.time();
        out['Seq'] = r.u16('login serial number');
        out['Username'] = trimNul(r.text(12, 'platform username (12 bytes)'));
        out['Password'] = trimNul(r.text(20, 'platform password (20 bytes)'));
        out['Encrypt'] = r.u8('encryption rule');
        break;
      case Command.Heartbeat:
      case Command.TimeSync:
        break;
      case Command.Query:
      case Command.Setting: {
        out['Time'] = r.time();
        out['Total'] = r.u8('parameter count');
        const decoded = decodeParams(r);
        out['Params'] = decoded.params;
        if (decoded.error !== null) out['Error'] = decoded.error;
        return out;
      }
      case Command.Control: {
        out['Time'] = r.time();
        const cmd = r.u8('control command');
        out['Command'] = cmd;
        out['Param'] = decodeControlParam(cmd, r);
        break;
      }
      default:
        out['Raw'] = data.toString('hex').toUpperCase();
        if (!isCustomCommand(command)) out['Error'] = `unknown command ${hexId(command)}: data unit passed on undecoded`;
        return out;
    }
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    out['Error'] = err.message;
    return out;
  }
  if (r.remaining > 0) out['Error'] = `${r.remaining} unexpected bytes after the data unit of command ${hexId(command)} at data offset ${r.pos}`;
  return out;
}

function trimNul(text: string): string {
  const nul = text.indexOf('\0');
  return nul === -1 ? text : text.slice(0, nul);
}
