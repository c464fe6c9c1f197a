/**
 * The GB/T 32960 protocol: TCP on --gbt32960-port and TLS on --gbt32960-tls-port (standard
 * port 7325), each vehicle a client of the same core as MQTT (see ../shared/PROTOCOLS.md).
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../errors.js';
import type { Protocol } from '../../gateway/protocol.js';
import { parseAesKeyFile, type AesKey } from './codec/crypto.js';
import { VehicleConnection } from './connection.js';
import type { Gbt32960Options } from './flags.js';

/** What every vehicle connection of a server shares, from the --gbt32960-* flags. */
export interface Gbt32960Config {
  readonly maxFrameSize: number;
  readonly loginTimeoutMs: number;
  /** 0 = never */
  readonly idleTimeoutMs: number;
  readonly retryIntervalMs: number;
  readonly maxRetries: number;
  readonly maxQueuedCommands: number;
  /** publish real-time numbers with units and offsets applied */
  readonly scaled: boolean;
  readonly utcOffsetMinutes: number;
  /** null when no --gbt32960-aes-key-file was given */
  readonly aes: AesKey | null;
}

/** The configuration of the vehicle connections, read from the flags (the AES key file too). */
function gbt32960Config(o: Gbt32960Options): Gbt32960Config {
  return {
    maxFrameSize: o.gbt32960MaxFrameSize,
    loginTimeoutMs: o.gbt32960LoginTimeout * 1000,
    idleTimeoutMs: o.gbt32960IdleTimeout * 1000,
    retryIntervalMs: o.gbt32960RetryInterval * 1000,
    maxRetries: o.gbt32960MaxRetries,
    maxQueuedCommands: o.gbt32960MaxQueuedCommands,
    scaled: o.gbt32960Values === 'scaled',
    utcOffsetMinutes: o.gbt32960UtcOffset,
    aes: readAesKey(o.gbt32960AesKeyFile, o.gbt32960AesMode),
  };
}

function readAesKey(path: string | undefined, mode: 'ecb' | 'cbc'): AesKey | null {
  if (path === undefined) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--gbt32960-aes-key-file: cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return parseAesKeyFile(text, mode);
  } catch (err) {
    throw new ConfigError(`--gbt32960-aes-key-file ${path}: ${(err as Error).message}`);
  }
}

export const gbt32960Protocol: Protocol<Gbt32960Options> = {
  name: 'gbt32960',
  async start(kit, o) {
    const specs = [
      { protocol: 'gbt32960', transport: 'tcp', flag: '--gbt32960-port', port: o.gbt32960Port },
      { protocol: 'gbt32960', transport: 'tls', flag: '--gbt32960-tls-port', port: o.gbt32960TlsPort },
    ] as const;
    if (specs.every((s) => s.port < 0)) return [];
    const config = gbt32960Config(o);
    return kit.listenAll(
      specs,
      kit.acceptor('gbt32960', (link) => new VehicleConnection(link, kit, config)),
    );
  },
};
