/**
 * The inverse of infos.ts for raw values: builds information items from the JSON shape.
 * Simulated vehicles (tests, bench/) use it; a platform-forwarding feature could too.
 */
import { InfoType } from './constants.js';
import type { InfoItem } from './infos.js';
import { writeTime, type Gbt32960Time } from './reader.js';

/** A growable big-endian writer. */
class Writer {
  buf = Buffer.allocUnsafe(256);
  pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: unknown): void {
    this.room(1);
    this.buf[this.pos++] = num(v) & 0xff;
  }
  u16(v: unknown): void {
    this.room(2);
    this.buf.writeUInt16BE(num(v) & 0xffff, this.pos);
    this.pos += 2;
  }
  u32(v: unknown): void {
    this.room(4);
    this.buf.writeUInt32BE(num(v) >>> 0, this.pos);
    this.pos += 4;
  }
  time(t: Gbt32960Time): void {
    this.room(6);
    writeTime(this.buf, this.pos, t);
    this.pos += 6;
  }
  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

function num(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`raw integer expected, got ${JSON.stringify(v)}`);
  return v;
}

function list(v: unknown): readonly Record<string, unknown>[] {
  return Array.isArray(v) ? (v as Record<string, unknown>[]) : [];
}

function numbers(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

const TYPE_CODES: Readonly<Record<string, number>> = {
  Vehicle: InfoType.Vehicle,
  DriveMotor: InfoType.DriveMotor,
  FuelCell: InfoType.FuelCell,
  Engine: InfoType.Engine,
  Location: InfoType.Location,
  Extreme: InfoType.Extreme,
  Alarm: InfoType.Alarm,
  ChargeableVoltage: InfoType.ChargeableVoltage,
  ChargeableTemp: InfoType.ChargeableTemp,
};

function writeInfo(w: Writer, item: InfoItem): void {
  const code = TYPE_CODES[item.Type];
  if (code === undefined) throw new TypeError(`unknown information item type ${item.Type}`);
  const f = item as Record<string, unknown>;
  w.u8(code);
  switch (code) {
    case InfoType.Vehicle:
      w.u8(f['Status']);
      w.u8(f['Charging']);
      w.u8(f['Mode']);
      w.u16(f['Speed']);
      w.u32(f['Mileage']);
      w.u16(f['Voltage']);
      w.u16(f['Current']);
      w.u8(f['SOC']);
      w.u8(f['DC']);
      w.u8(f['Gear']);
      w.u16(f['Resistance']);
      w.u8(f['AcceleratorPedal']);
      w.u8(f['BrakePedal']);
      break;
    case InfoType.DriveMotor: {
      const motors = list(f['Motors']);
      w.u8(motors.length);
      for (const m of motors) {
        w.u8(m['No']);
        w.u8(m['Status']);
        w.u8(m['CtrlTemp']);
        w.u16(m['Rotating']);
        w.u16(m['Torque']);
        w.u8(m['MotorTemp']);
        w.u16(m['InputVoltage']);
        w.u16(m['DCBusCurrent']);
      }
      break;
    }
    case InfoType.FuelCell: {
      const temps = numbers(f['ProbeTemps']);
      w.u16(f['CellVoltage']);
      w.u16(f['CellCurrent']);
      w.u16(f['FuelConsumption']);
      w.u16(temps.length);
      for (const t of temps) w.u8(t);
      w.u16(f['H_MaxTemp']);
      w.u8(f['H_TempProbeCode']);
      w.u16(f['H_MaxConc']);
      w.u8(f['H_ConcSensorCode']);
      w.u16(f['H_MaxPress']);
      w.u8(f['H_PressSensorCode']);
      w.u8(f['DCStatus']);
      break;
    }
    case InfoType.Engine:
      w.u8(f['Status']);
      w.u16(f['CrankshaftSpeed']);
      w.u16(f['FuelConsumption']);
      break;
    case InfoType.Location:
      w.u8(f['Status']);
      w.u32(f['Longitude']);
      w.u32(f['Latitude']);
      break;
    case InfoType.Extreme:
      w.u8(f['MaxVoltageBatterySubsysNo']);
      w.u8(f['MaxVoltageBatteryCode']);
      w.u16(f['MaxBatteryVoltage']);
      w.u8(f['MinVoltageBatterySubsysNo']);
      w.u8(f['MinVoltageBatteryCode']);
      w.u16(f['MinBatteryVoltage']);
      w.u8(f['MaxTempSubsysNo']);
      w.u8(f['MaxTempProbeNo']);
      w.u8(f['MaxTemp']);
      w.u8(f['MinTempSubsysNo']);
      w.u8(f['MinTempProbeNo']);
      w.u8(f['MinTemp']);
      break;
    case InfoType.Alarm:
      w.u8(f['MaxAlarmLevel']);
      w.u32(f['GeneralAlarmFlag']);
      for (const key of ['FaultChargeableDeviceList', 'FaultDriveMotorList', 'FaultEngineList', 'FaultOthersList']) {
        const codes = numbers(f[key]);
        w.u8(codes.length);
        for (const c of codes) w.u32(parseInt(String(c), 16));
      }
      break;
    case InfoType.ChargeableVoltage: {
      const subs = list(f['SubSystems']);
      w.u8(subs.length);
      for (const s of subs) {
        const cells = numbers(s['CellsVoltage']);
        w.u8(s['ChargeableSubsysNo']);
        w.u16(s['ChargeableVoltage']);
        w.u16(s['ChargeableCurrent']);
        w.u16(s['CellsTotal']);
        w.u16(s['FrameCellsIndex']);
        w.u8(cells.length);
        for (const c of cells) w.u16(c);
      }
      break;
    }
    case InfoType.ChargeableTemp: {
      const subs = list(f['SubSystems']);
      w.u8(subs.length);
      for (const s of subs) {
        const temps = numbers(s['ProbesTemp']);
        w.u8(s['ChargeableSubsysNo']);
        w.u16(temps.length);
        for (const t of temps) w.u8(t);
      }
      break;
    }
  }
}

/** The data unit of a real-time or re-sent report: time, then each item. */
export function encodeReport(time: Gbt32960Time, items: readonly InfoItem[]): Buffer {
  const w = new Writer();
  w.time(time);
  for (const item of items) writeInfo(w, item);
  return w.done();
}
