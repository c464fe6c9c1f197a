/**
 * GB/T 32960.3-2016 numbers: commands, response flags, encryption, information types, and
 * the names the EMQX gateway's JSON uses for them (the MQTT-side contract).
 */

/** The two start bytes, `##`. */
export const START_BYTE = 0x23;
/** "##", command, response flag, VIN[17], encryption, data length W. */
export const HEADER_SIZE = 24;
/** The data length is a WORD, so no frame is longer than this. */
export const MAX_FRAME_SIZE = HEADER_SIZE + 0xffff + 1;
export const VIN_LENGTH = 17;
/** Offsets inside a frame, counted from the first `#`. */
export const OFFSET_COMMAND = 2;
export const OFFSET_RESPONSE = 3;
export const OFFSET_VIN = 4;
export const OFFSET_ENCRYPTION = 21;
export const OFFSET_LENGTH = 22;

export const enum Command {
  VehicleLogin = 0x01,
  RealtimeData = 0x02,
  ResentData = 0x03,
  VehicleLogout = 0x04,
  PlatformLogin = 0x05,
  PlatformLogout = 0x06,
  Heartbeat = 0x07,
  TimeSync = 0x08,
  Query = 0x80,
  Setting = 0x81,
  Control = 0x82,
}

export const enum ResponseFlag {
  Success = 0x01,
  Error = 0x02,
  VinDuplicate = 0x03,
  /** the frame is a command, not a response */
  Command = 0xfe,
}

export const enum Encryption {
  None = 0x01,
  Rsa = 0x02,
  Aes128 = 0x03,
  Abnormal = 0xfe,
  Invalid = 0xff,
}

export const enum InfoType {
  Vehicle = 0x01,
  DriveMotor = 0x02,
  FuelCell = 0x03,
  Engine = 0x04,
  Location = 0x05,
  Extreme = 0x06,
  Alarm = 0x07,
  ChargeableVoltage = 0x08,
  ChargeableTemp = 0x09,
}

/** The `Type` value of each information item in the JSON. */
export const INFO_TYPE_NAMES: Readonly<Record<number, string>> = {
  [InfoType.Vehicle]: 'Vehicle',
  [InfoType.DriveMotor]: 'DriveMotor',
  [InfoType.FuelCell]: 'FuelCell',
  [InfoType.Engine]: 'Engine',
  [InfoType.Location]: 'Location',
  [InfoType.Extreme]: 'Extreme',
  [InfoType.Alarm]: 'Alarm',
  [InfoType.ChargeableVoltage]: 'ChargeableVoltage',
  [InfoType.ChargeableTemp]: 'ChargeableTemp',
};

/** Commands 0xC0-0xFE carry platform-exchange data this gateway passes on undecoded. */
export function isCustomCommand(command: number): boolean {
  return command >= 0xc0 && command <= 0xfe;
}

/** True for the response flags a vehicle answers a platform command with. */
export function isResponseFlag(flag: number): boolean {
  return flag === ResponseFlag.Success || flag === ResponseFlag.Error || flag === ResponseFlag.VinDuplicate;
}

/** "0x0A": the spelling of parameter ids and commands in the JSON. */
export function hexId(id: number): string {
  return '0x' + (id < 16 ? '0' : '') + id.toString(16).toUpperCase();
}
