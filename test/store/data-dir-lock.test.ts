/** One broker per --data-dir: real broker processes, and the lock without the native module. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJunction } from '../../bench/lib/broker-process.js';
import { repoRoot } from '../interop/harness.js';
import { LmdbStore } from '../../src/store/lmdb-store.js';
import { LOCK_FILE, processStartTime } from '../../src/store/data-dir-lock.js';
import { StoreLockedError } from '../../src/store/errors.js';
import { bareMessage } from './conformance.js';

/** Runs `junction start` on `dataDir`, expected to refuse; its exit code and stderr. */
function startSecond(dataDir: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/src/cli/main.js', 'start', '--mqtt-port', '0', '--data-dir', dataDir], { cwd: repoRoot });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

test('a second broker on the same --data-dir refuses to start and names the pid holding it; the first keeps its data', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-lock-'));
  const first = await startJunction({ dataDir, args: ['--allow-anonymous'] });
  try {
    const second = await startSecond(dataDir);
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, new RegExp(`is in use by process ${first.process.pid} `));
    assert.match(second.stderr, /stop that broker, or give this one its own --data-dir/);
    // kill -9 leaves the lock file behind, but not the lock: a new broker starts at once.
    await first.kill9();
    const third = await startJunction({ dataDir });
    await third.stop();
  } finally {
    await first.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('without the native module the lock file decides: a live holder refuses, a dead one is taken over', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-lock-'));
  const holder = spawn('sleep', ['30']);
  try {
    const pid = holder.pid!;
    writeFileSync(join(dataDir, LOCK_FILE), JSON.stringify({ pid, startTime: processStartTime(pid), host: hostname(), since: 'then' }));
    const store = new LmdbStore(dataDir);
    await assert.rejects(store.open(), (err: unknown) => err instanceof StoreLockedError && err.message.includes(`in use by process ${pid} `));
    // The same pid with another start time is a reused pid, not the holder.
    writeFileSync(join(dataDir, LOCK_FILE), JSON.stringify({ pid, startTime: '1', host: hostname(), since: 'then' }));
    await store.open();
    store.putRetained(bareMessage('t', 'x'));
    await store.close();
    // A dead holder: taken over.
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    writeFileSync(join(dataDir, LOCK_FILE), JSON.stringify({ pid, startTime: processStartTime(process.pid), host: hostname(), since: 'then' }));
    const again = new LmdbStore(dataDir);
    await again.open();
    assert.equal([...again.loadRetained()].length, 1);
    await again.close();
  } finally {
    holder.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
