/** Turning lmdb-js's errors on a damaged file into StoreCorruptError, which names the file and what to do. */
import { join } from 'node:path';
import { StoreCorruptError } from './errors.js';

/** lmdb-js's errors for a damaged file (MDB_CORRUPTED, MDB_PAGE_NOTFOUND...) carry LMDB's negative code. */
function isLmdbError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code <= -30700 && code >= -30800;
}

/** An lmdb-js error reading the file becomes StoreCorruptError (the file and what to do); others pass. */
export function corruptionOf(dataDir: string, err: unknown): unknown {
  return isLmdbError(err) ? new StoreCorruptError(join(dataDir, 'data.mdb'), `LMDB cannot read it (${(err as Error).message})`) : err;
}

/** Iterates `items`, turning an lmdb-js read error into StoreCorruptError. */
export function* guarded<T>(dataDir: string, items: Iterable<T>): Generator<T, void, undefined> {
  try {
    yield* items;
  } catch (err) {
    throw corruptionOf(dataDir, err);
  }
}
