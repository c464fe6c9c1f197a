/**
 * GB/T 32960 test helpers: the checked vectors of PROTOCOLS.md, builders for the data units of
 * every command, a simulated vehicle over TCP, and an HTTP authentication hook that admits a
 * list of VINs (the broker's normal device authentication).
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { encodeFrame, FrameScan, ScanStatus, scanFrame } from '../../../src/protocols/gbt32960/codec/frame.js';
import { writeTime, type Gbt32960Time } from '../../../src/protocols/gbt32960/codec/reader.js';
import type { InfoItem } from '../../../src/protocols/gbt32960/codec/infos.js';
import type { Broker, TestContext } from '../../interop/harness.js';

export const VIN = '1G1BL52P7TR115520';

/** PROTOCOLS.md vectors (lengths and checksums checked there). */
export const VECTORS = {
  login: '232301FE314731424C35325037545231313535323001001F0C0C1D0C13140001313233343536373839303132333435363738393001014398',
  heartbeat: '232307FE314731424C353250375452313135353230010000D5',
  heartbeatAnswer: '23230701314731424C3532503754523131353532300100002A',
} as const;

export const TIME: Gbt32960Time = { Year: 16, Month: 1, Day: 1, Hour: 2, Minute: 59, Second: 0 };

export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

function timeBytes(t: Gbt32960Time = TIME): Buffer {
  const b = Buffer.alloc(6);
  writeTime(b, 0, t);
  return b;
}

/** Vehicle login data unit: time, serial, ICCID, subsystem count, code length, codes. */
export function loginData(seq = 1, iccid = '12345678901234567890', codes: string[] = ['C'], t: Gbt32960Time = TIME): Buffer {
  const length = codes[0]?.length ?? 0;
  const head = Buffer.alloc(2);
  head.writeUInt16BE(seq);
  return Buffer.concat([timeBytes(t), head, Buffer.from(iccid, 'latin1'), Buffer.from([codes.length, length]), Buffer.from(codes.join(''), 'latin1')]);
}

/** Vehicle or platform logout: time, serial. */
export function logoutData(seq = 1, t: Gbt32960Time = TIME): Buffer {
  const b = Buffer.alloc(8);
  writeTime(b, 0, t);
  b.writeUInt16BE(seq, 6);
  return b;
}

/** Platform login: time, serial, username[12], password[20], encryption rule. */
export function platformLoginData(user: string, password: string, rule = 1): Buffer {
  const b = Buffer.alloc(6 + 2 + 12 + 20 + 1);
  writeTime(b, 0, TIME);
  b.writeUInt16BE(7, 6);
  b.write(user, 8, 12, 'latin1');
  b.write(password, 20, 20, 'latin1');
  b[40] = rule;
  return b;
}

/** A command frame (response flag 0xFE, no encryption) from the test VIN. */
export function frame(command: number, data: Buffer | null, vin: string = VIN, flag = 0xfe, encryption = 0x01): Buffer {
  return encodeFrame(command, flag, vin, encryption, data);
}

/** Raw-valued samples of every information type (the shapes of EMQX's JSON). */
export const SAMPLE_ITEMS: Record<string, InfoItem> = {
  Vehicle: {
    Type: 'Vehicle',
    Status: 1,
    Charging: 3,
    Mode: 1,
    Speed: 2000,
    Mileage: 999999,
    Voltage: 5000,
    Current: 15000,
    SOC: 50,
    DC: 1,
    Gear: 0x2e,
    Resistance: 6000,
    AcceleratorPedal: 90,
    BrakePedal: 0,
  },
  DriveMotor: {
    Type: 'DriveMotor',
    Number: 2,
    Motors: [
      { No: 1, Status: 1, CtrlTemp: 20, Rotating: 2000, Torque: 3000, MotorTemp: 80, InputVoltage: 50000, DCBusCurrent: 12000 },
      { No: 2, Status: 2, CtrlTemp: 30, Rotating: 3000, Torque: 4000, MotorTemp: 90, InputVoltage: 60000, DCBusCurrent: 13000 },
    ],
  },
  FuelCell: {
    Type: 'FuelCell',
    CellVoltage: 12000,
    CellCurrent: 10000,
    FuelConsumption: 40000,
    ProbeNum: 5,
    ProbeTemps: [40, 41, 42, 43, 44],
    H_MaxTemp: 1200,
    H_TempProbeCode: 2,
    H_MaxConc: 35000,
    H_ConcSensorCode: 3,
    H_MaxPress: 500,
    H_PressSensorCode: 4,
    DCStatus: 1,
  },
  Engine: { Type: 'Engine', Status: 1, CrankshaftSpeed: 30000, FuelConsumption: 40000 },
  Location: { Type: 'Location', Status: 6, Longitude: 121473701, Latitude: 31230416 },
  Extreme: {
    Type: 'Extreme',
    MaxVoltageBatterySubsysNo: 12,
    MaxVoltageBatteryCode: 10,
    MaxBatteryVoltage: 7500,
    MinVoltageBatterySubsysNo: 13,
    MinVoltageBatteryCode: 11,
    MinBatteryVoltage: 2000,
    MaxTempSubsysNo: 14,
    MaxTempProbeNo: 12,
    MaxTemp: 120,
    MinTempSubsysNo: 15,
    MinTempProbeNo: 13,
    MinTemp: 40,
  },
  Alarm: {
    Type: 'Alarm',
    MaxAlarmLevel: 1,
    GeneralAlarmFlag: 3,
    FaultChargeableDeviceNum: 1,
    FaultChargeableDeviceList: ['00C8'],
    FaultDriveMotorNum: 0,
    FaultDriveMotorList: [],
    FaultEngineNum: 1,
    FaultEngineList: ['006F'],
    FaultOthersNum: 2,
    FaultOthersList: ['0001', '12345678'],
  },
  ChargeableVoltage: {
    Type: 'ChargeableVoltage',
    Number: 2,
    SubSystems: [
      { ChargeableSubsysNo: 1, ChargeableVoltage: 5000, ChargeableCurrent: 10000, CellsTotal: 2, FrameCellsIndex: 0, FrameCellsCount: 1, CellsVoltage: [5000] },
      { ChargeableSubsysNo: 2, ChargeableVoltage: 5001, ChargeableCurrent: 10001, CellsTotal: 2, FrameCellsIndex: 1, FrameCellsCount: 1, CellsVoltage: [5001] },
    ],
  },
  ChargeableTemp: {
    Type: 'ChargeableTemp',
    Number: 2,
    SubSystems: [
      { ChargeableSubsysNo: 1, ProbeNum: 10, ProbesTemp: [0, 0, 0, 0, 0, 0, 0, 0, 19, 136] },
      { ChargeableSubsysNo: 2, ProbeNum: 1, ProbesTemp: [100] },
    ],
  },
};

/** The port of the broker's GB/T 32960 listener of `transport`, from its "listening" log line. */
export function gbtPort(broker: Broker, transport = 'tcp'): number {
  const line = broker.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === 'gbt32960' && l['transport'] === transport);
  if (line === undefined) throw new Error(`no GB/T 32960 ${transport} listener in the broker log`);
  return Number(line['port']);
}

/** A decoded frame as a test sees it. */
export interface SeenFrame {
  command: number;
  flag: number;
  vin: string;
  encryption: number;
  data: Buffer;
  bytes: Buffer;
}

/** A simulated vehicle: raw socket, frames parsed as they arrive. */
export class Vehicle {
  readonly frames: SeenFrame[] = [];
  closed = false;
  private pending = Buffer.alloc(0);
  private readonly scan = new FrameScan();

  private constructor(readonly socket: net.Socket | tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      let buf = Buffer.concat([this.pending, chunk]);
      let pos = 0;
      for (;;) {
        const s = scanFrame(buf, pos, buf.length, 70_000, this.scan);
        if (s.status === ScanStatus.NeedMore) {
          buf = buf.subarray(s.resume);
          break;
        }
        if (s.status === ScanStatus.Frame) {
          const bytes = Buffer.from(buf.subarray(s.frameStart, s.frameEnd));
          this.frames.push({ command: bytes[2]!, flag: bytes[3]!, vin: bytes.toString('latin1', 4, 21), encryption: bytes[21]!, data: bytes.subarray(24, bytes.length - 1), bytes });
        }
        pos = s.resume;
      }
      this.pending = Buffer.from(buf);
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static connect(t: TestContext | null, port: number): Promise<Vehicle> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new Vehicle(socket)));
      socket.once('error', reject);
      t?.after(() => socket.destroy());
    });
  }

  /** A vehicle over TLS trusting `ca` (the test's self-signed server certificate). */
  static connectTls(t: TestContext | null, port: number, ca: Buffer): Promise<Vehicle> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca }, () => resolve(new Vehicle(socket)));
      socket.once('error', reject);
      t?.after(() => socket.destroy());
    });
  }

  send(bytes: Buffer | string): void {
    this.socket.write(typeof bytes === 'string' ? hex(bytes) : bytes);
  }

  /** The next frame (optionally of `command`), removed from the list. */
  async next(command?: number, timeoutMs = 3000): Promise<SeenFrame> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex((f) => command === undefined || f.command === command);
      if (i !== -1) return this.frames.splice(i, 1)[0]!;
      if (this.closed) throw new Error(`connection closed while waiting for a frame${command === undefined ? '' : ` of command 0x${command.toString(16)}`}`);
      if (Date.now() > until) throw new Error(`no frame${command === undefined ? '' : ` of command 0x${command.toString(16)}`} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Resolves once the broker closed the connection. */
  async waitClosed(timeoutMs = 3000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > until) throw new Error(`connection still open after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** An HTTP authentication hook admitting exactly `vins` (other protocols: no opinion); returns its URL. */
export async function vinHook(t: TestContext | null, vins: readonly string[]): Promise<{ url: string; close: () => void }> {
  const allowed = new Set(vins);
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const info = JSON.parse(body) as { username: string | null; clientid: string; protocol: string };
      const vehicle = info.protocol.startsWith('gbt32960');
      const ok = vehicle && info.username !== null && allowed.has(info.username) && info.clientid === info.username;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ result: !vehicle ? 'ignore' : ok ? 'allow' : 'deny' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = (): void => {
    server.closeAllConnections();
    server.close();
  };
  t?.after(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth`, close };
}
