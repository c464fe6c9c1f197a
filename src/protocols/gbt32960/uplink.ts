/**
 * What a vehicle's frame becomes on the MQTT side: the topic suffix (EMQX's names) and the JSON
 * {"Cmd", "Encrypt", "Vin", "Data"}. Encrypted data units are decrypted first when a key is
 * configured; otherwise `Data` says why it could not be read and carries the bytes as hex.
 */
import { Command, Encryption, ResponseFlag, isResponseFlag } from './codec/constants.js';
import { aesDecrypt, type AesKey } from './codec/crypto.js';
import { decodeDataUnit, type DataUnit } from './codec/data-unit.js';

/** The upstream topics of the contract: gbt32960/{vin}/upstream/{suffix}. */
export const UPSTREAM_SUFFIXES = ['vlogin', 'info', 'reinfo', 'vlogout', 'plogin', 'plogout', 'transparent', 'response'] as const;

/** Index into UPSTREAM_SUFFIXES for a frame, as EMQX routes it. */
export function upstreamIndex(command: number, response: number): number {
  if (isResponseFlag(response)) return 7;
  if (response !== ResponseFlag.Command) return 6;
  switch (command) {
    case Command.VehicleLogin:
      return 0;
    case Command.RealtimeData:
      return 1;
    case Command.ResentData:
      return 2;
    case Command.VehicleLogout:
      return 3;
    case Command.PlatformLogin:
      return 4;
    case Command.PlatformLogout:
      return 5;
    default:
      return 6;
  }
}

/** The decoded (and, if need be, decrypted) data unit of one frame. */
export function uplinkData(command: number, encryption: number, data: Buffer, aes: AesKey | null, scaled: boolean): DataUnit {
  if (encryption === Encryption.Aes128) {
    if (aes === null) return undecoded(data, 'data unit is AES-128 encrypted and no --gbt32960-aes-key-file is configured');
    let plain: Buffer;
    try {
      plain = aesDecrypt(aes, data);
    } catch (err) {
      return undecoded(data, (err as Error).message);
    }
    return decodeDataUnit(command, plain, scaled);
  }
  if (encryption === Encryption.Rsa) return undecoded(data, 'data unit is RSA encrypted, which this gateway does not decrypt');
  return decodeDataUnit(command, data, scaled);
}

function undecoded(data: Buffer, error: string): DataUnit {
  return { Raw: data.toString('hex').toUpperCase(), Error: error };
}

/** The payload published for one frame. */
export function uplinkJson(command: number, encryption: number, vin: string, data: DataUnit): Buffer {
  return Buffer.from(JSON.stringify({ Cmd: command, Encrypt: encryption, Vin: vin, Data: data }));
}
