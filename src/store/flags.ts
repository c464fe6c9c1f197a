/** Flags of the store: where retained messages and sessions live. */
import type { FlagDef } from '../config/flags.js';

/** What --store accepts. */
const STORE_KINDS = ['lmdb', 'memory'] as const;
/** Which store keeps retained messages and sessions. */
export type StoreKind = (typeof STORE_KINDS)[number];

export interface StoreOptions {
  dataDir: string;
  store: StoreKind;
}

/** Rows for --help, parsing and the config file. */
export const STORE_FLAGS: readonly FlagDef<keyof StoreOptions>[] = [
  { name: 'data-dir', key: 'dataDir', kind: 'path', group: 'Storage', default: './data', valueName: 'DIR', help: 'directory of the LMDB store' },
  { name: 'store', key: 'store', kind: 'enum', group: 'Storage', default: 'lmdb', values: STORE_KINDS, help: 'where retained messages and sessions live; memory loses them on exit' },
];
