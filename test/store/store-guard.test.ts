/**
 * The --max-store-size guard with a hand-set live size: a writer faster than the measuring
 * interval is stopped within a commit of the limit, and the refusal lifts once room returns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreGuard } from '../../src/store/store-guard.js';

/** One database whose live size (in 4 KiB pages) the test sets. */
function fakeDb(): { db: { getStats(): unknown }; setBytes(bytes: number): void } {
  let leaf = 0;
  return {
    db: { getStats: () => ({ pageSize: 4096, treeBranchPageCount: 0, treeLeafPageCount: leaf, overflowPages: 0 }) },
    setBytes: (bytes) => {
      leaf = Math.ceil(bytes / 4096);
    },
  };
}

test('writes that could reach the limit are measured at the next commit, not at the next interval', () => {
  const { db, setBytes } = fakeDb();
  const guard = new StoreGuard('/tmp', 100 * 4096, undefined);
  guard.start([db]);
  assert.equal(guard.refusePut(40 * 4096), null);
  setBytes(40 * 4096);
  guard.committed();
  // Well below the limit and inside the interval: the size is not measured yet.
  assert.equal(guard.health(0).sizeBytes, 0);
  assert.equal(guard.refusePut(70 * 4096), null);
  setBytes(110 * 4096);
  guard.committed();
  assert.equal(guard.health(0).sizeBytes, 110 * 4096);
  const refused = guard.refusePut(100);
  assert.ok(refused !== null, 'the put after the commit that crossed the limit is refused');
  assert.equal(refused.kind, 'limit');
  assert.equal(guard.health(0).refusedWrites, 1);
  // Records removed: the next commit measures again and lifts the refusal.
  setBytes(50 * 4096);
  guard.committed();
  assert.equal(guard.refusePut(100), null);
  assert.equal(guard.health(0).full, null);
});
