/**
 * AES-128 for data units with encryption flag 0x03. The 2016 edition names the algorithm but
 * not the mode, so the operator picks it: ECB (the common choice) or CBC with a configured IV;
 * padding is PKCS#7 either way. The key never reaches a log line.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

export type AesMode = 'ecb' | 'cbc';

/** What the operator configured; `iv` only for CBC. */
export interface AesKey {
  readonly mode: AesMode;
  readonly key: Buffer;
  readonly iv: Buffer | null;
}

/** Parses a key file: 32 hex digits (the key), then for CBC 32 more (the IV), any whitespace between. */
export function parseAesKeyFile(text: string, mode: AesMode): AesKey {
  const words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  const isHex16 = (w: string | undefined): w is string => w !== undefined && /^[0-9a-fA-F]{32}$/.test(w);
  if (!isHex16(words[0])) throw new Error('the key file must start with the 16-byte AES-128 key as 32 hex digits');
  if (mode === 'cbc') {
    if (!isHex16(words[1])) throw new Error('CBC mode needs the 16-byte IV as 32 hex digits after the key in the key file');
    return { mode, key: Buffer.from(words[0], 'hex'), iv: Buffer.from(words[1], 'hex') };
  }
  return { mode, key: Buffer.from(words[0], 'hex'), iv: null };
}

/** Decrypts one data unit; throws with a short reason when the bytes are not valid ciphertext. */
export function aesDecrypt(aes: AesKey, data: Buffer): Buffer {
  if (data.length === 0 || data.length % 16 !== 0) {
    throw new Error(`AES-128 data unit of ${data.length} bytes is not a whole number of 16-byte blocks`);
  }
  const decipher = createDecipheriv(aes.mode === 'ecb' ? 'aes-128-ecb' : 'aes-128-cbc', aes.key, aes.iv);
  try {
    return Buffer.concat([decipher.update(data), decipher.final()]);
  } catch {
    throw new Error('AES-128 decryption failed (wrong key or mode, or bad padding)');
  }
}

/** Encrypts a data unit (simulated vehicles in tests and benchmarks; answers stay plain). */
export function aesEncrypt(aes: AesKey, data: Buffer): Buffer {
  const cipher = createCipheriv(aes.mode === 'ecb' ? 'aes-128-ecb' : 'aes-128-cbc', aes.key, aes.iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}
