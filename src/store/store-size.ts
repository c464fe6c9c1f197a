/**
 * The live size of an LMDB store and the default --max-store-size. LMDB's file only grows (freed
 * pages are reused, never returned), so the file size says how big the store once was; the pages
 * the databases hold now say how big it is.
 */
import { statfsSync } from 'node:fs';

/** What lmdb-js's getStats() gives for one database (the fields used here). */
interface DbStats {
  pageSize: number;
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
  root?: DbStats;
  free?: DbStats;
}

/** A database whose statistics can be read. */
export interface StatsSource {
  getStats(): unknown;
}

function pages(s: DbStats | undefined): number {
  return s === undefined ? 0 : s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
}

/** Bytes of the pages holding live records: every database's trees, the main one and the free list. */
export function liveBytes(dbs: readonly StatsSource[]): number {
  let total = 0;
  let pageSize = 4096;
  let shared = 0;
  for (const db of dbs) {
    const s = db.getStats() as DbStats;
    pageSize = s.pageSize;
    total += pages(s);
    shared = pages(s.root) + pages(s.free);
  }
  return (total + shared) * pageSize;
}

/** Share of the file system the store may take by default: room is left for logs, the OS and LMDB's growth step. */
export const AUTO_STORE_SHARE = 0.9;

/** The default --max-store-size: 90% of the size of the file system holding `dir`. */
export function autoStoreLimit(dir: string): number {
  const fs = statfsSync(dir);
  return Math.floor(fs.blocks * fs.bsize * AUTO_STORE_SHARE);
}
