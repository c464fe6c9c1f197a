/** The data units of the gateway's own answers to a vehicle. */
import { Encryption } from './constants.js';
import { aesDecrypt, type AesKey } from './crypto.js';
import { writeTime, type Gbt32960Time } from './reader.js';

/**
 * A login/logout data unit with its time replaced by `now`, as the standard answers them. The
 * answer goes in clear: an encrypted unit is decrypted first, and one that cannot be is answered
 * with the time alone.
 */
export function restamp(aes: AesKey | null, now: Gbt32960Time, encryption: number, data: Buffer): Buffer {
  let out: Buffer;
  if (encryption === Encryption.Aes128 || encryption === Encryption.Rsa) {
    try {
      out = encryption === Encryption.Aes128 && aes !== null ? aesDecrypt(aes, data) : Buffer.alloc(6);
    } catch {
      out = Buffer.alloc(6);
    }
  } else {
    out = Buffer.from(data);
  }
  if (out.length >= 6) writeTime(out, 0, now);
  return out;
}
