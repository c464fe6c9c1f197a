/**
 * Information items of real-time (0x02) and re-sent (0x03) data, types 0x01-0x09, decoded into
 * the EMQX JSON shape. In raw mode every number is the wire value (EMQX's behaviour); in scaled
 * mode units and offsets are applied as the standard defines (0.1 km/h, offset 1000 A, -40 °C,
 * ...) and the reserved "abnormal"/"invalid" codes (0xFE/0xFF, 0xFFFE/0xFFFF, ...) become null.
 * An unknown type or a truncated item ends the parse; the items before it are kept.
 */
import { INFO_TYPE_NAMES, InfoType, hexId } from './constants.js';
import { DecodeError, type Reader } from './reader.js';

/** A number as published: raw, scaled, or null for an abnormal/invalid reading (scaled mode). */
export type Reading = number | null;

/** One decoded information item; `Type` names it ("Vehicle", "DriveMotor", ...). */
export interface InfoItem {
  readonly Type: string;
  readonly [field: string]: Reading | string | readonly unknown[];
}

/** The items of one data unit and, when decoding stopped early, why. */
export interface DecodedInfos {
  infos: InfoItem[];
  error: string | null;
}

// Scaling helpers: (raw - offset) / divisor, with the reserved top codes as null.
function sb(scaled: boolean, v: number, offset: number, divisor: number): Reading {
  if (!scaled) return v;
  return v >= 0xfe ? null : (v - offset) / divisor;
}
function sw(scaled: boolean, v: number, offset: number, divisor: number): Reading {
  if (!scaled) return v;
  return v >= 0xfffe ? null : (v - offset) / divisor;
}
function sd(scaled: boolean, v: number, offset: number, divisor: number): Reading {
  if (!scaled) return v;
  return v >= 0xfffffffe ? null : (v - offset) / divisor;
}

function vehicle(r: Reader, s: boolean): InfoItem {
  r.need(20, 'Vehicle item (20 bytes)');
  return {
    Type: 'Vehicle',
    Status: r.u8(''),
    Charging: r.u8(''),
    Mode: r.u8(''),
    Speed: sw(s, r.u16(''), 0, 10),
    Mileage: sd(s, r.u32(''), 0, 10),
    Voltage: sw(s, r.u16(''), 0, 10),
    Current: sw(s, r.u16(''), 10000, 10),
    SOC: sb(s, r.u8(''), 0, 1),
    DC: r.u8(''),
    Gear: r.u8(''),
    Resistance: sw(s, r.u16(''), 0, 1),
    AcceleratorPedal: sb(s, r.u8(''), 0, 1),
    BrakePedal: sb(s, r.u8(''), 0, 1),
  };
}

function driveMotor(r: Reader, s: boolean): InfoItem {
  const count = r.u8('DriveMotor count');
  r.need(count * 12, `DriveMotor item (${count} motors of 12 bytes)`);
  const motors: Record<string, Reading>[] = [];
  for (let i = 0; i < count; i++) {
    motors.push({
      No: r.u8(''),
      Status: r.u8(''),
      CtrlTemp: sb(s, r.u8(''), 40, 1),
      Rotating: sw(s, r.u16(''), 20000, 1),
      Torque: sw(s, r.u16(''), 20000, 10),
      MotorTemp: sb(s, r.u8(''), 40, 1),
      InputVoltage: sw(s, r.u16(''), 0, 10),
      DCBusCurrent: sw(s, r.u16(''), 10000, 10),
    });
  }
  return { Type: 'DriveMotor', Number: count, Motors: motors };
}

function temps(r: Reader, s: boolean, n: number, what: string): Reading[] {
  r.need(n, what);
  const out: Reading[] = new Array<Reading>(n);
  for (let i = 0; i < n; i++) out[i] = sb(s, r.u8(''), 40, 1);
  return out;
}

function fuelCell(r: Reader, s: boolean): InfoItem {
  r.need(8, 'FuelCell item');
  const cellVoltage = sw(s, r.u16(''), 0, 10);
  const cellCurrent = sw(s, r.u16(''), 0, 10);
  const fuelConsumption = sw(s, r.u16(''), 0, 100);
  const probeNum = r.u16('');
  const probeTemps = temps(r, s, probeNum, `FuelCell probe temperatures (${probeNum} bytes)`);
  r.need(10, 'FuelCell hydrogen readings (10 bytes)');
  return {
    Type: 'FuelCell',
    CellVoltage: cellVoltage,
    CellCurrent: cellCurrent,
    FuelConsumption: fuelConsumption,
    ProbeNum: probeNum,
    ProbeTemps: probeTemps,
    H_MaxTemp: sw(s, r.u16(''), 400, 10),
    H_TempProbeCode: r.u8(''),
    H_MaxConc: sw(s, r.u16(''), 0, 1),
    H_ConcSensorCode: r.u8(''),
    H_MaxPress: sw(s, r.u16(''), 0, 10),
    H_PressSensorCode: r.u8(''),
    DCStatus: r.u8(''),
  };
}

function engine(r: Reader, s: boolean): InfoItem {
  r.need(5, 'Engine item (5 bytes)');
  return {
    Type: 'Engine',
    Status: r.u8(''),
    CrankshaftSpeed: sw(s, r.u16(''), 0, 1),
    FuelConsumption: sw(s, r.u16(''), 0, 100),
  };
}

function location(r: Reader, s: boolean): InfoItem {
  r.need(9, 'Location item (9 bytes)');
  const status = r.u8('');
  const longitude = r.u32('');
  const latitude = r.u32('');
  if (!s) return { Type: 'Location', Status: status, Longitude: longitude, Latitude: latitude };
  // Status bit 1: south latitude, bit 2: west longitude; scaled values carry the sign.
  const lon = sd(s, longitude, 0, 1e6);
  const lat = sd(s, latitude, 0, 1e6);
  return {
    Type: 'Location',
    Status: status,
    Longitude: lon === null ? null : status & 0x04 ? -lon : lon,
    Latitude: lat === null ? null : status & 0x02 ? -lat : lat,
  };
}

function extreme(r: Reader, s: boolean): InfoItem {
  r.need(14, 'Extreme item (14 bytes)');
  return {
    Type: 'Extreme',
    MaxVoltageBatterySubsysNo: r.u8(''),
    MaxVoltageBatteryCode: r.u8(''),
    MaxBatteryVoltage: sw(s, r.u16(''), 0, 1000),
    MinVoltageBatterySubsysNo: r.u8(''),
    MinVoltageBatteryCode: r.u8(''),
    MinBatteryVoltage: sw(s, r.u16(''), 0, 1000),
    MaxTempSubsysNo: r.u8(''),
    MaxTempProbeNo: r.u8(''),
    MaxTemp: sb(s, r.u8(''), 40, 1),
    MinTempSubsysNo: r.u8(''),
    MinTempProbeNo: r.u8(''),
    MinTemp: sb(s, r.u8(''), 40, 1),
  };
}

/** Fault codes as EMQX prints them: upper-case hex, at least 4 digits. */
function faultCodes(r: Reader, n: number, what: string): string[] {
  r.need(n * 4, `${what} (${n} codes of 4 bytes)`);
  const out: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = r.u32('').toString(16).toUpperCase().padStart(4, '0');
  return out;
}

function alarm(r: Reader): InfoItem {
  r.need(6, 'Alarm item');
  const level = r.u8('');
  const general = r.u32('');
  const n1 = r.u8('');
  const l1 = faultCodes(r, n1, 'Alarm rechargeable device faults');
  const n2 = r.u8('Alarm drive motor fault count');
  const l2 = faultCodes(r, n2, 'Alarm drive motor faults');
  const n3 = r.u8('Alarm engine fault count');
  const l3 = faultCodes(r, n3, 'Alarm engine faults');
  const n4 = r.u8('Alarm other fault count');
  const l4 = faultCodes(r, n4, 'Alarm other faults');
  return {
    Type: 'Alarm',
    MaxAlarmLevel: level,
    GeneralAlarmFlag: general,
    FaultChargeableDeviceNum: n1,
    FaultChargeableDeviceList: l1,
    FaultDriveMotorNum: n2,
    FaultDriveMotorList: l2,
    FaultEngineNum: n3,
    FaultEngineList: l3,
    FaultOthersNum: n4,
    FaultOthersList: l4,
  };
}

function chargeableVoltage(r: Reader, s: boolean): InfoItem {
  const count = r.u8('ChargeableVoltage subsystem count');
  const subsystems: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    r.need(10, `ChargeableVoltage subsystem ${i + 1} of ${count}`);
    const no = r.u8('');
    const voltage = sw(s, r.u16(''), 0, 10);
    const current = sw(s, r.u16(''), 10000, 10);
    const total = r.u16('');
    const index = r.u16('');
    const frameCount = r.u8('');
    r.need(frameCount * 2, `ChargeableVoltage subsystem ${i + 1} cell voltages (${frameCount} of 2 bytes)`);
    const cells: Reading[] = new Array<Reading>(frameCount);
    for (let c = 0; c < frameCount; c++) cells[c] = sw(s, r.u16(''), 0, 1000);
    subsystems.push({
      ChargeableSubsysNo: no,
      ChargeableVoltage: voltage,
      ChargeableCurrent: current,
      CellsTotal: total,
      FrameCellsIndex: index,
      FrameCellsCount: frameCount,
      CellsVoltage: cells,
    });
  }
  return { Type: 'ChargeableVoltage', Number: count, SubSystems: subsystems };
}

function chargeableTemp(r: Reader, s: boolean): InfoItem {
  const count = r.u8('ChargeableTemp subsystem count');
  const subsystems: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    r.need(3, `ChargeableTemp subsystem ${i + 1} of ${count}`);
    const no = r.u8('');
    const probes = r.u16('');
    subsystems.push({
      ChargeableSubsysNo: no,
      ProbeNum: probes,
      ProbesTemp: temps(r, s, probes, `ChargeableTemp subsystem ${i + 1} probe temperatures (${probes} bytes)`),
    });
  }
  return { Type: 'ChargeableTemp', Number: count, SubSystems: subsystems };
}

/** Decodes every information item from the reader's position to its end. */
export function decodeInfos(r: Reader, scaled: boolean): DecodedInfos {
  const infos: InfoItem[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    const type = r.u8('information type');
    try {
      switch (type) {
        case InfoType.Vehicle:
          infos.push(vehicle(r, scaled));
          break;
        case InfoType.DriveMotor:
          infos.push(driveMotor(r, scaled));
          break;
        case InfoType.FuelCell:
          infos.push(fuelCell(r, scaled));
          break;
        case InfoType.Engine:
          infos.push(engine(r, scaled));
          break;
        case InfoType.Location:
          infos.push(location(r, scaled));
          break;
        case InfoType.Extreme:
          infos.push(extreme(r, scaled));
          break;
        case InfoType.Alarm:
          infos.push(alarm(r));
          break;
        case InfoType.ChargeableVoltage:
          infos.push(chargeableVoltage(r, scaled));
          break;
        case InfoType.ChargeableTemp:
          infos.push(chargeableTemp(r, scaled));
          break;
        default:
          return {
            infos,
            error: `unknown information type ${hexId(type)} at data offset ${at}: its length is not known, the last ${r.end - at} bytes are not decoded`,
          };
      }
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      return { infos, error: `${INFO_TYPE_NAMES[type]} item at data offset ${at}: ${err.message}` };
    }
  }
  return { infos, error: null };
}
