/**
 * Terminal parameters (Table B.10 of the 2016 edition) for Query (0x80) and Setting (0x81), and
 * the Control (0x82) command parameters (Tables B.15/B.16): encoding from the JSON a backend
 * publishes on dnstream, decoding of the vehicle's answers. Values are JSON numbers for BYTE and
 * WORD parameters and strings for the domain names (0x05, 0x0E) and versions (0x07, 0x08).
 */
import { hexId } from './constants.js';
import { DecodeError, type Reader } from './reader.js';

/** How a parameter's value is stored on the wire. */
type ParamKind = 'byte' | 'word' | 'ver5' | 'len05' | 'len0E';

const PARAM_KINDS: ReadonlyMap<number, ParamKind> = new Map<number, ParamKind>([
  [0x01, 'word'], // local storage period, ms
  [0x02, 'word'], // normal reporting period, s
  [0x03, 'word'], // alarm reporting period, ms
  [0x04, 'byte'], // remote service platform domain length
  [0x05, 'len05'], // remote service platform domain
  [0x06, 'word'], // remote service platform port
  [0x07, 'ver5'], // hardware version
  [0x08, 'ver5'], // firmware version
  [0x09, 'byte'], // heartbeat period, s
  [0x0a, 'word'], // terminal response timeout, s
  [0x0b, 'word'], // platform response timeout, s
  [0x0c, 'byte'], // minutes before the next login after three failed ones
  [0x0d, 'byte'], // public platform domain length
  [0x0e, 'len0E'], // public platform domain
  [0x0f, 'word'], // public platform port
  [0x10, 'byte'], // sampling monitoring: 1 yes, 2 no
]);

/** One parameter as the JSON holds it: {"0x01": 5000}. */
export type ParamEntry = Record<string, number | string>;

/** A problem with a downlink command's JSON, answered in the log. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

/** "0x01", "1", 1 -> 1; throws CommandError for anything that is not a byte. */
export function parseId(value: unknown, what: string): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^0x[0-9a-f]{1,2}$/i.test(value)) n = parseInt(value.slice(2), 16);
  else if (typeof value === 'string' && /^\d{1,3}$/.test(value)) n = Number(value);
  else throw new CommandError(`${what} must be a byte such as "0x01" (got ${JSON.stringify(value)})`);
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new CommandError(`${what} must be between 0x00 and 0xFF (got ${JSON.stringify(value)})`);
  return n;
}

/** Decodes parameter id/value pairs to the end of the reader (Query and Setting answers). */
export function decodeParams(r: Reader): { params: ParamEntry[]; error: string | null } {
  const params: ParamEntry[] = [];
  const lengths = new Map<number, number>();
  while (r.remaining > 0) {
    const at = r.pos;
    const id = r.u8('parameter id');
    const kind = PARAM_KINDS.get(id);
    try {
      let value: number | string;
      switch (kind) {
        case 'byte':
          value = r.u8(`parameter ${hexId(id)}`);
          lengths.set(id, value);
          break;
        case 'word':
          value = r.u16(`parameter ${hexId(id)}`);
          break;
        case 'ver5':
          value = r.bytes(5, `parameter ${hexId(id)}`).toString('utf8');
          break;
        case 'len05':
        case 'len0E': {
          const lengthId = id - 1;
          const n = lengths.get(lengthId);
          if (n === undefined) return { params, error: `parameter ${hexId(id)} at data offset ${at} without its length parameter ${hexId(lengthId)} before it` };
          value = r.bytes(n, `parameter ${hexId(id)}`).toString('utf8');
          break;
        }
        default:
          return { params, error: `unknown parameter id ${hexId(id)} at data offset ${at}: its length is not known, the last ${r.end - at} bytes are not decoded` };
      }
      params.push({ [hexId(id)]: value });
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      return { params, error: err.message };
    }
  }
  return { params, error: null };
}

/** The id bytes of a Query from its "Ids" array. */
export function encodeQueryIds(ids: unknown, total: unknown): Buffer {
  if (!Array.isArray(ids) || ids.length === 0) throw new CommandError('Query needs "Ids": a non-empty array such as ["0x01", "0x02"]');
  if (ids.length > 252) throw new CommandError(`Query may ask for at most 252 parameters (got ${ids.length})`);
  checkTotal(total, ids.length, 'Ids');
  const out = Buffer.allocUnsafe(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = parseId(ids[i], `Ids[${i}]`);
  return out;
}

function checkTotal(total: unknown, count: number, list: string): void {
  if (total === undefined) return;
  if (total !== count) throw new CommandError(`"Total" is ${JSON.stringify(total)} but "${list}" holds ${count} entries`);
}

function wordValue(value: unknown, what: string, max = 0xffff): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new CommandError(`${what} must be an integer between 0 and ${max} (got ${JSON.stringify(value)})`);
  }
  return value;
}

function textValue(value: unknown, what: string): Buffer {
  if (typeof value !== 'string') throw new CommandError(`${what} must be a string (got ${JSON.stringify(value)})`);
  return Buffer.from(value, 'utf8');
}

/** The id/value bytes of a Setting from its "Params" array of one-key objects. */
export function encodeSettingParams(params: unknown, total: unknown): Buffer {
  if (!Array.isArray(params) || params.length === 0) throw new CommandError('Setting needs "Params": a non-empty array such as [{"0x01": 5000}]');
  if (params.length > 252) throw new CommandError(`Setting may carry at most 252 parameters (got ${params.length})`);
  checkTotal(total, params.length, 'Params');
  const values = new Map<number, unknown>();
  const order: number[] = [];
  for (let i = 0; i < params.length; i++) {
    const entry: unknown = params[i];
    const keys = typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? Object.keys(entry) : [];
    if (keys.length !== 1) throw new CommandError(`Params[${i}] must be an object with one key such as {"0x01": 5000}`);
    const id = parseId(keys[0], `Params[${i}] id`);
    if (!PARAM_KINDS.has(id)) throw new CommandError(`Params[${i}]: parameter ${hexId(id)} is not one of 0x01-0x10`);
    if (values.has(id)) throw new CommandError(`Params[${i}]: parameter ${hexId(id)} given twice`);
    values.set(id, (entry as Record<string, unknown>)[keys[0]!]);
    order.push(id);
  }
  const parts: Buffer[] = [];
  for (const id of order) {
    const value = values.get(id);
    const what = `parameter ${hexId(id)}`;
    switch (PARAM_KINDS.get(id)!) {
      case 'word':
        parts.push(Buffer.from([id, wordValue(value, what) >> 8, wordValue(value, what) & 0xff]));
        break;
      case 'ver5': {
        const text = textValue(value, what);
        if (text.length !== 5) throw new CommandError(`${what} must be 5 bytes such as "1.0.0" (got ${text.length})`);
        parts.push(Buffer.from([id]), text);
        break;
      }
      case 'byte':
        if (id === 0x04 || id === 0x0d) {
          // A domain travels as its length parameter immediately followed by the name.
          const nameId = id + 1;
          const name = values.get(nameId);
          if (name === undefined) throw new CommandError(`${what} (a domain length) needs parameter ${hexId(nameId)} (the domain) too`);
          const text = textValue(name, `parameter ${hexId(nameId)}`);
          const n = wordValue(value, what, 0xff);
          if (n !== text.length) throw new CommandError(`${what} is ${n} but parameter ${hexId(nameId)} is ${text.length} bytes long`);
          parts.push(Buffer.from([id, n, nameId]), text);
        } else {
          parts.push(Buffer.from([id, wordValue(value, what, 0xff)]));
        }
        break;
      case 'len05':
      case 'len0E':
        if (!values.has(id - 1)) throw new CommandError(`${what} (a domain) needs parameter ${hexId(id - 1)} (its length) too`);
        break;
    }
  }
  return Buffer.concat(parts);
}

// --- Control (0x82) ------------------------------------------------------------------------

/** Control commands of Table B.15 (0x01 remote upgrade ... 0x07 sampling monitoring link). */
export const CONTROL_COMMANDS: ReadonlySet<number> = new Set([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]);

const SEMICOLON = 0x3b;

function ipBytes(value: unknown): Buffer {
  if (typeof value !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(value)) throw new CommandError(`Param.Ip must be an IPv4 address such as "192.168.1.1" (got ${JSON.stringify(value)})`);
  const parts = value.split('.').map(Number);
  if (parts.some((p) => p > 255)) throw new CommandError(`Param.Ip ${value} is not an IPv4 address`);
  return Buffer.from([0, 0, ...parts]);
}

function fixedText(value: unknown, n: number, what: string): Buffer {
  const text = textValue(value, what);
  if (text.length !== n) throw new CommandError(`${what} must be ${n} bytes (got ${text.length})`);
  return text;
}

/** The parameter bytes of a Control command from its "Param" object. */
export function encodeControlParam(command: number, param: unknown): Buffer {
  if (command === 0x01) {
    if (typeof param !== 'object' || param === null)
      throw new CommandError('Control 0x01 (remote upgrade) needs "Param": {DialingName, Username, Password, Ip, Port, ManufacturerId, HardwareVer, SoftwareVer, UpgradeUrl, Timeout}');
    const p = param as Record<string, unknown>;
    const word = (v: unknown, what: string): Buffer => {
      const n = wordValue(v, what);
      return Buffer.from([n >> 8, n & 0xff]);
    };
    // Fields are positional and separated by ';'; an absent one stays empty in its place.
    const fields: Buffer[] = [
      p['DialingName'] === undefined ? Buffer.alloc(0) : textValue(p['DialingName'], 'Param.DialingName'),
      p['Username'] === undefined ? Buffer.alloc(0) : textValue(p['Username'], 'Param.Username'),
      p['Password'] === undefined ? Buffer.alloc(0) : textValue(p['Password'], 'Param.Password'),
      p['Ip'] === undefined ? Buffer.alloc(0) : ipBytes(p['Ip']),
      p['Port'] === undefined ? Buffer.alloc(0) : word(p['Port'], 'Param.Port'),
      p['ManufacturerId'] === undefined ? Buffer.alloc(0) : fixedText(p['ManufacturerId'], 4, 'Param.ManufacturerId'),
      p['HardwareVer'] === undefined ? Buffer.alloc(0) : fixedText(p['HardwareVer'], 5, 'Param.HardwareVer'),
      p['SoftwareVer'] === undefined ? Buffer.alloc(0) : fixedText(p['SoftwareVer'], 5, 'Param.SoftwareVer'),
      p['UpgradeUrl'] === undefined ? Buffer.alloc(0) : textValue(p['UpgradeUrl'], 'Param.UpgradeUrl'),
      p['Timeout'] === undefined ? Buffer.alloc(0) : word(p['Timeout'], 'Param.Timeout'),
    ];
    const parts: Buffer[] = [];
    fields.forEach((f, i) => {
      if (i > 0) parts.push(Buffer.from([SEMICOLON]));
      parts.push(f);
    });
    return Buffer.concat(parts);
  }
  if (command === 0x06) {
    if (typeof param !== 'object' || param === null) throw new CommandError('Control 0x06 (terminal alarm) needs "Param": {"Level": 0-3, "Message": "..."}');
    const p = param as Record<string, unknown>;
    const level = wordValue(p['Level'], 'Param.Level', 0xff);
    const message = p['Message'] === undefined ? Buffer.alloc(0) : textValue(p['Message'], 'Param.Message');
    return Buffer.concat([Buffer.from([level]), message]);
  }
  return Buffer.alloc(0);
}

/** Reads up to the next ';' (or the end) as text. */
function untilSemicolon(r: Reader): string {
  const start = r.pos;
  let i = start;
  while (i < r.end && r.buf[i] !== SEMICOLON) i++;
  r.pos = i < r.end ? i + 1 : i;
  return r.buf.toString('utf8', start, i);
}

/**
 * Reads a fixed-size field and its ';'. Binary fields may hold 0x3B themselves, so the field is
 * taken whole when a separator (or the end, for the last one) follows it, and empty otherwise.
 */
function fixedField(r: Reader, n: number, last: boolean): Buffer | null {
  const fits = last ? r.remaining === n : r.remaining > n && r.buf[r.pos + n] === SEMICOLON;
  if (fits) {
    const v = r.bytes(n, 'remote upgrade field');
    if (!last) r.pos++;
    return v;
  }
  if (r.remaining === 0) return null;
  if (r.buf[r.pos] === SEMICOLON && !last) {
    r.pos++;
    return null;
  }
  throw new DecodeError(`remote upgrade parameters: a ${n}-byte field followed by ';' expected at offset ${r.pos}`);
}

/** Decodes the parameter of a Control answer as EMQX does ("" for commands without one). */
export function decodeControlParam(command: number, r: Reader): Record<string, unknown> | string {
  if (command === 0x06) {
    const level = r.u8('alarm level');
    return { Level: level, Message: r.bytes(r.remaining, 'alarm message').toString('utf8') };
  }
  if (command !== 0x01) return '';
  const dialingName = untilSemicolon(r);
  const username = untilSemicolon(r);
  const password = untilSemicolon(r);
  const ip = fixedField(r, 6, false);
  const port = fixedField(r, 2, false);
  const manufacturer = fixedField(r, 4, false);
  const hardware = fixedField(r, 5, false);
  const software = fixedField(r, 5, false);
  const url = untilSemicolon(r);
  const timeout = fixedField(r, 2, true);
  return {
    DialingName: dialingName,
    Username: username,
    Password: password,
    Ip: ip === null ? '' : `${ip[2]}.${ip[3]}.${ip[4]}.${ip[5]}`,
    Port: port === null ? null : port.readUInt16BE(0),
    ManufacturerId: manufacturer === null ? '' : manufacturer.toString('utf8'),
    HardwareVer: hardware === null ? '' : hardware.toString('utf8'),
    SoftwareVer: software === null ? '' : software.toString('utf8'),
    UpgradeUrl: url,
    Timeout: timeout === null ? null : timeout.readUInt16BE(0),
  };
}
