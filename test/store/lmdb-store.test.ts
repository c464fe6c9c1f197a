import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LmdbStore } from '../../src/store/lmdb-store.js';
import { createStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { bareMessage, queued, storeConformance } from './conformance.js';

function tempDir(): string {
  // A dot in the folder name: it must still be taken as a folder, not a file name.
  return mkdtempSync(join(tmpdir(), 'junction-store.test-'));
}

storeConformance(
  'lmdb',
  async () => {
    const dir = tempDir();
    const errors: unknown[] = [];
    let current: Store = new LmdbStore(dir, { onError: (error) => errors.push(error) });
    return {
      get store() {
        return current;
      },
      errors,
      async reopen() {
        await current.close();
        current = new LmdbStore(dir, { onError: (error) => errors.push(error) });
        await current.open();
        return current;
      },
      async cleanup() {
        await current.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  true,
);

test('lmdb: createStore("lmdb") creates the data folder, nested', async () => {
  const dir = tempDir();
  try {
    const store = createStore('lmdb', join(dir, 'a', 'b'));
    assert.ok(store instanceof LmdbStore);
    await store.open();
    store.putRetained(bareMessage('t', 'x'));
    await store.close();
    const again = createStore('lmdb', join(dir, 'a', 'b'));
    await again.open();
    assert.deepEqual([...again.loadRetained()], [bareMessage('t', 'x')]);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const writer = fileURLToPath(new URL('./fixtures/crash-writer.js', import.meta.url));

/** Runs the writer until it has acknowledged at least `until` seqs, kills it, returns what it printed. */
function runAndKill(dir: string, until: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: number[] = [];
    let rest = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) acked.push(Number(line));
      if (!killed && acked.length >= until) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code ?? signal} before it was killed`));
      // A line cut by the kill was never fully printed: it does not count.
      else resolve(acked);
    });
  });
}

test('lmdb: kill -9 loses no write whose afterCommit callback ran', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    let expectedTotal = 0;
    // Several crashes into the same folder: each reopen must also survive the previous crash.
    for (const until of [500, 3000, 20000]) {
      const acked = await runAndKill(dir, until);
      assert.ok(acked.length >= until, `writer acknowledged ${acked.length} seqs`);
      const store = new LmdbStore(dir);
      await store.open();
      const present = new Map(store.loadQueue('crash').map((r) => [r.seq, r]));
      for (const seq of acked) {
        const record = present.get(seq);
        assert.ok(record !== undefined, `acknowledged seq ${seq} is present after kill -9`);
        assert.deepEqual(record, queued(seq));
      }
      const retained = [...store.loadRetained()];
      assert.equal(retained.length, 1, 'the retained record written alongside survives');
      expectedTotal = Math.max(expectedTotal, ...acked);
      await store.close();
    }
    assert.ok(expectedTotal > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lmdb: an unhandled rejection other than the failed batch of lmdb-js still ends the process', async () => {
  const dir = tempDir();
  try {
    const store = fileURLToPath(new URL('../../src/store/lmdb-store.js', import.meta.url));
    const script = `import { LmdbStore } from ${JSON.stringify(store)};
const s = new LmdbStore(${JSON.stringify(dir)});
await s.open();
Promise.reject(new Error('an unrelated bug'));
setTimeout(() => console.log('still running'), 500);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(output, /an unrelated bug/);
    assert.doesNotMatch(output, /still running/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
