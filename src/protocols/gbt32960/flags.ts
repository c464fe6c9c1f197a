/** Flags of the GB/T 32960 gateway: the Gbt32960Options part of StartOptions and its rows. */
import type { FlagDef } from '../../config/flags.js';

/** How numbers of real-time data are published: EMQX's raw wire values, or with units applied. */
const GBT32960_VALUE_MODES = ['raw', 'scaled'] as const;
/** AES-128 modes for data units with encryption flag 0x03. */
const GBT32960_AES_MODES = ['ecb', 'cbc'] as const;

export interface Gbt32960Options {
  /** GB/T 32960 over TCP; -1 (off) = no listener. */
  gbt32960Port: number;
  /** GB/T 32960 over TLS; -1 (off) = no listener. */
  gbt32960TlsPort: number;
  gbt32960MaxFrameSize: number;
  gbt32960LoginTimeout: number;
  gbt32960IdleTimeout: number;
  gbt32960RetryInterval: number;
  gbt32960MaxRetries: number;
  gbt32960MaxQueuedCommands: number;
  gbt32960Values: (typeof GBT32960_VALUE_MODES)[number];
  gbt32960AesKeyFile: string | undefined;
  gbt32960AesMode: (typeof GBT32960_AES_MODES)[number];
  gbt32960UtcOffset: number;
}

/** Rows for --help, parsing and the config file (group and kinds as in options.ts). */
export const GBT32960_FLAGS: readonly FlagDef<keyof Gbt32960Options>[] = [
  { name: 'gbt32960-port', key: 'gbt32960Port', kind: 'port', group: 'GB/T 32960', default: -1, help: 'GB/T 32960 (new-energy vehicles) over TCP (standard port 7325)' },
  {
    name: 'gbt32960-tls-port',
    key: 'gbt32960TlsPort',
    kind: 'port',
    group: 'GB/T 32960',
    default: -1,
    help: 'GB/T 32960 over TLS; needs --tls-cert and --tls-key (no standard port; 7325 is the plain one)',
  },
  {
    name: 'gbt32960-max-frame-size',
    key: 'gbt32960MaxFrameSize',
    kind: 'size',
    group: 'GB/T 32960',
    default: 65_560,
    min: 25,
    max: 65_560,
    help: 'largest frame accepted (header, data unit and BCC); longer ones are skipped',
  },
  {
    name: 'gbt32960-login-timeout',
    key: 'gbt32960LoginTimeout',
    kind: 'int',
    group: 'GB/T 32960',
    default: 30,
    min: 1,
    max: 3600,
    valueName: 'SECONDS',
    help: 'time a new connection has to send the vehicle login',
  },
  {
    name: 'gbt32960-idle-timeout',
    key: 'gbt32960IdleTimeout',
    kind: 'int',
    group: 'GB/T 32960',
    default: 180,
    min: 0,
    max: 86_400,
    valueName: 'SECONDS',
    help: 'a logged-in vehicle silent this long (no data, no heartbeat) is disconnected; 0 = never',
  },
  {
    name: 'gbt32960-retry-interval',
    key: 'gbt32960RetryInterval',
    kind: 'int',
    group: 'GB/T 32960',
    default: 8,
    min: 1,
    max: 3600,
    valueName: 'SECONDS',
    help: 'a Query/Setting/Control command unanswered this long is sent again',
  },
  { name: 'gbt32960-max-retries', key: 'gbt32960MaxRetries', kind: 'int', group: 'GB/T 32960', default: 3, min: 0, max: 100, help: 'resends of an unanswered command before it is dropped' },
  {
    name: 'gbt32960-max-queued-commands',
    key: 'gbt32960MaxQueuedCommands',
    kind: 'int',
    group: 'GB/T 32960',
    default: 10,
    min: 1,
    max: 10_000,
    help: 'downlink commands waiting per vehicle behind the one in flight; more are dropped',
  },
  {
    name: 'gbt32960-values',
    key: 'gbt32960Values',
    kind: 'enum',
    group: 'GB/T 32960',
    default: 'raw',
    values: GBT32960_VALUE_MODES,
    help: 'real-time data numbers: raw = wire values as EMQX publishes them; scaled = units and offsets applied (km/h, V, A, °C, degrees), abnormal/invalid as null',
  },
  {
    name: 'gbt32960-aes-key-file',
    key: 'gbt32960AesKeyFile',
    kind: 'path',
    group: 'GB/T 32960',
    default: undefined,
    defaultText: 'none',
    valueName: 'FILE',
    help: 'file holding the AES-128 key as 32 hex digits (then the IV for cbc): decrypts data units with encryption flag 0x03',
  },
  {
    name: 'gbt32960-aes-mode',
    key: 'gbt32960AesMode',
    kind: 'enum',
    group: 'GB/T 32960',
    default: 'ecb',
    values: GBT32960_AES_MODES,
    help: 'AES-128 block mode of encrypted data units (PKCS#7 padding)',
  },
  {
    name: 'gbt32960-utc-offset',
    key: 'gbt32960UtcOffset',
    kind: 'int',
    group: 'GB/T 32960',
    default: 480,
    min: -720,
    max: 840,
    valueName: 'MINUTES',
    help: 'time zone of the times the gateway sends (answers, time sync, commands); the standard uses Beijing time, +480',
  },
];
