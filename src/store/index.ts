/**
 * The store a broker runs on, picked by --store: 'memory' keeps nothing across restarts,
 * 'lmdb' persists under the data directory.
 */
import { LmdbStore, type LmdbStoreOptions } from './lmdb-store.js';
import { MemoryStore } from './memory-store.js';
import type { Store } from './types.js';
import type { StoreKind } from './flags.js';

/** Creates (does not open) a store of the given kind; dataDir and options are ignored by 'memory'. */
export function createStore(kind: StoreKind, dataDir: string, options: LmdbStoreOptions = {}): Store {
  switch (kind) {
    case 'memory':
      return new MemoryStore();
    case 'lmdb':
      return new LmdbStore(dataDir, options);
  }
}

export { LmdbStore, type LmdbStoreOptions } from './lmdb-store.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export type * from './types.js';
export { StoreCorruptError, StoreFullError, StoreLockedError } from './errors.js';
