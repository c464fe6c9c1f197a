/**
 * Checks data.mdb before LMDB maps it. LMDB trusts its file: a truncated file makes it read past
 * the end of the mapping (SIGBUS), a zeroed header sends it through garbage pointers (SIGSEGV),
 * and the process dies without a word. The two meta pages at the start say what the file must be:
 *
 *   page header 24 bytes (this lmdb-js build: pgno u64, txnid u64, pad u16, flags u16, lower/upper u16)
 *   MDB_meta:   magic u32 = 0xBEEFC0DE, version u32 (2; 1 for older files), address u64, mapsize u64,
 *               free db (pad u32 = page size, flags u16, depth u16, branch, leaf, overflow, entries, root: u64),
 *               main db (48 bytes), last page u64, txnid u64
 *
 * (dependencies/lmdb/libraries/liblmdb/mdb.c in lmdb-js: MDB_page_header, MDB_meta, MDB_db.) The
 * newer meta (higher txnid) is the one LMDB opens; every page up to its last page must be in the file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { StoreCorruptError } from './errors.js';

const MDB_MAGIC = 0xbeefc0de;
/** Data file versions LMDB (lmdb-js 3) opens. */
const VERSIONS: readonly number[] = [1, 2];
const PAGE_HEADER = 24;
const META_MAGIC = PAGE_HEADER;
const META_VERSION = PAGE_HEADER + 4;
const META_PAGE_SIZE = PAGE_HEADER + 24;
const META_LAST_PAGE = PAGE_HEADER + 120;
const META_TXNID = PAGE_HEADER + 128;
const META_END = PAGE_HEADER + 136;

interface Meta {
  pageSize: number;
  lastPage: number;
  txnid: number;
}

/** Reads the meta at `offset`, or says what is wrong with it. */
function readMeta(page: Buffer, which: number): Meta | string {
  if (page.length < META_END) return `meta page ${which} is cut short`;
  const magic = page.readUInt32LE(META_MAGIC);
  if (magic !== MDB_MAGIC) return `meta page ${which} has no LMDB magic number (0x${magic.toString(16).padStart(8, '0')} instead of 0xbeefc0de)`;
  const version = page.readUInt32LE(META_VERSION);
  if (!VERSIONS.includes(version)) return `meta page ${which} has data format version ${version}, not one LMDB reads (${VERSIONS.join(', ')})`;
  const pageSize = page.readUInt32LE(META_PAGE_SIZE);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return `meta page ${which} gives a page size of ${pageSize}`;
  return { pageSize, lastPage: Number(page.readBigUInt64LE(META_LAST_PAGE)), txnid: Number(page.readBigUInt64LE(META_TXNID)) };
}

/**
 * Throws StoreCorruptError when `<dataDir>/data.mdb` cannot be an intact LMDB file: too short,
 * either meta page damaged, or shorter than the last page its current meta names. A missing file
 * is fine (a new store).
 */
export function checkDataFile(dataDir: string): void {
  const file = join(dataDir, 'data.mdb');
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    // An empty file: LMDB creates the metas on open, as for a new store.
    if (size === 0) return;
    const first = Buffer.alloc(Math.min(size, META_END));
    readSync(fd, first, 0, first.length, 0);
    const meta0 = readMeta(first, 0);
    if (typeof meta0 === 'string') throw new StoreCorruptError(file, meta0);
    const page = meta0.pageSize;
    if (size < 2 * page) throw new StoreCorruptError(file, `it is ${size} bytes, shorter than its two meta pages (${2 * page})`);
    const second = Buffer.alloc(META_END);
    readSync(fd, second, 0, second.length, page);
    const meta1 = readMeta(second, 1);
    if (typeof meta1 === 'string') throw new StoreCorruptError(file, meta1);
    if (meta1.pageSize !== page) throw new StoreCorruptError(file, `its meta pages disagree on the page size (${page} and ${meta1.pageSize})`);
    const current = meta1.txnid > meta0.txnid ? meta1 : meta0;
    const needed = (current.lastPage + 1) * page;
    if (size < needed) {
      throw new StoreCorruptError(file, `it is ${size} bytes but its last page (${current.lastPage}) ends at byte ${needed}: the file was truncated`);
    }
  } finally {
    closeSync(fd);
  }
}
