/** Flags of the store: where retained messages and sessions live. */
import type { FlagDef } from '../config/flags.js';

/** What --store accepts. */
const STORE_KINDS = ['lmdb', 'memory'] as const;
/** Which store keeps retained messages and sessions. */
export type StoreKind = (typeof STORE_KINDS)[number];

/** What --store-check accepts. */
const STORE_CHECKS = ['full', 'header'] as const;
/** How much of the LMDB file is checked before it is opened. */
export type StoreCheck = (typeof STORE_CHECKS)[number];

export interface StoreOptions {
  dataDir: string;
  store: StoreKind;
  /** Bytes of live records past which new ones are refused; 0 = 90% of the data dir's file system */
  maxStoreSize: number;
  storeCheck: StoreCheck;
}

/** Rows for --help, parsing and the config file. */
export const STORE_FLAGS: readonly FlagDef<keyof StoreOptions>[] = [
  { name: 'data-dir', key: 'dataDir', kind: 'path', group: 'Storage', default: './data', valueName: 'DIR', help: 'directory of the LMDB store' },
  {
    name: 'max-store-size',
    key: 'maxStoreSize',
    kind: 'size',
    group: 'Storage',
    default: 0,
    defaultText: '90% of the disk',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    help: 'live records the LMDB store may hold; past it, writes are refused (publishers waiting on them get 0x97) until records are removed; 0 = 90% of the size of the file system of --data-dir',
  },
  {
    name: 'store-check',
    key: 'storeCheck',
    kind: 'enum',
    group: 'Storage',
    default: 'full',
    values: STORE_CHECKS,
    help: 'before opening the LMDB file: full = a child process reads every record, so a damaged file refuses the start instead of crashing the broker (adds the time of one read of the store); header = only its meta pages and size',
  },
  { name: 'store', key: 'store', kind: 'enum', group: 'Storage', default: 'lmdb', values: STORE_KINDS, help: 'where retained messages and sessions live; memory loses them on exit' },
];
