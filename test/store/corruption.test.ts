/**
 * A damaged data.mdb against real broker processes: refused with a message naming the file and
 * what to do (truncated, zeroed header, a broken tree, bytes that would crash LMDB), or started with
 * the damaged records reported and not served (a record failing its checksum). And records written
 * before checksums existed still load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { LmdbStore } from '../../src/store/lmdb-store.js';
import { startBroker, type TestContext } from '../interop/harness.js';
import { rawClient } from '../interop/raw-client.js';
import { PacketType, parsePublish, subscribePacket } from '../interop/wire.js';
import { bareMessage } from './conformance.js';

const RETAINED = 300;

/** Topic and payload of retained message i: the payload is easy to find in the file. */
function record(i: number): { topic: string; payload: string } {
  const n = String(i).padStart(3, '0');
  return { topic: `c/${n}`, payload: `payload-${n}-`.repeat(8) };
}

/** A store with RETAINED retained messages, written and closed; a copy per test. */
let template: string | null = null;
async function storeCopy(t: TestContext): Promise<string> {
  if (template === null) {
    template = mkdtempSync(join(tmpdir(), 'junction-corrupt-template-'));
    const store = new LmdbStore(template);
    await store.open();
    for (let i = 0; i < RETAINED; i++) store.putRetained(bareMessage(record(i).topic, record(i).payload));
    await store.close();
  }
  const dir = mkdtempSync(join(tmpdir(), 'junction-corrupt-'));
  cpSync(template, dir, { recursive: true });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `junction start` on dataDir expecting a refusal; its exit code, signal and stderr. */
function startRefused(dataDir: string): { status: number | null; signal: NodeJS.Signals | null; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'start', '--mqtt-port', '0', '--data-dir', dataDir], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}

/** Runs `junction start` until it exits, or until it is ready (then SIGTERM, and waits for the exit). */
function runUntilReady(dataDir: string): Promise<{ ready: boolean; status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/src/cli/main.js', 'start', '--mqtt-port', '0', '--data-dir', dataDir]);
    let stdout = '';
    let stderr = '';
    let ready = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!ready && stdout.includes('"msg":"ready"')) {
        ready = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (status, signal) => {
      clearTimeout(timer);
      resolve({ ready, status, signal, stdout, stderr });
    });
  });
}

function assertRefusedNaming(dataDir: string, problem: RegExp): void {
  const r = startRefused(dataDir);
  assert.equal(r.signal, null, `the broker died by ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes(`${join(dataDir, 'data.mdb')} is damaged`), r.stderr);
  assert.match(r.stderr, problem);
  assert.match(r.stderr, /Restore the data dir from a backup, or move .*data\.mdb aside to start with an empty store/);
}

test('a truncated data.mdb is refused at start, naming the file, instead of SIGBUS', async (t) => {
  const dir = await storeCopy(t);
  const file = join(dir, 'data.mdb');
  truncateSync(file, Math.floor(readFileSync(file).length / 2));
  assertRefusedNaming(dir, /the file was truncated/);
});

test('a zeroed header is refused at start, naming the file, instead of SIGSEGV', async (t) => {
  const dir = await storeCopy(t);
  const file = join(dir, 'data.mdb');
  const bytes = readFileSync(file);
  bytes.fill(0, 0, 8192);
  writeFileSync(file, bytes);
  assertRefusedNaming(dir, /no LMDB magic number/);
});

test('records failing their checksum are reported at start (log, count) and not served; the others are', async (t) => {
  const dir = await storeCopy(t);
  const file = join(dir, 'data.mdb');
  const bytes = readFileSync(file);
  const damaged = [17, 123, 250];
  for (const i of damaged) {
    // Every copy of the record's bytes (LMDB keeps older page versions too).
    const marker = Buffer.from(`payload-${String(i).padStart(3, '0')}-`);
    for (let at = bytes.indexOf(marker); at >= 0; at = bytes.indexOf(marker, at + 1)) bytes[at + 3] ^= 0x20;
  }
  writeFileSync(file, bytes);
  const broker = await startBroker({ dataDir: dir, args: ['--allow-anonymous'] });
  t.after(() => broker.dispose());
  const loaded = broker.logs.find((l) => l['msg'] === 'store loaded');
  assert.equal(loaded?.['retained'], RETAINED - damaged.length);
  assert.equal(loaded?.['corruptRecords'], damaged.length);
  const reports = broker.logs.filter((l) => l['msg'] === 'stored record damaged: not served');
  assert.deepEqual(
    reports.map((l) => l['record']).sort(),
    damaged.map((i) => JSON.stringify(record(i).topic)),
  );
  assert.ok(reports.every((l) => l['problem'] === 'checksum mismatch'));

  const raw = await rawClient(t, broker.port, 4);
  await raw.handshake({ clientId: 'reader' });
  raw.send(subscribePacket(1, [{ filter: 'c/#', options: 0 }]));
  await raw.nextOf(PacketType.SUBACK);
  const topics = new Set<string>();
  while (topics.size < RETAINED - damaged.length) topics.add(parsePublish(await raw.nextOf(PacketType.PUBLISH), 4).topic);
  for (const i of damaged) assert.ok(!topics.has(record(i).topic), `damaged ${record(i).topic} is not served`);
  assert.equal((await raw.drain(300)).length, 0, 'nothing more arrives');
});

test('200 flipped bytes never crash the broker: it refuses with a message, or starts having reported what it lost', { timeout: 120_000 }, async (t) => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const dir = await storeCopy(t);
    const file = join(dir, 'data.mdb');
    const bytes = readFileSync(file);
    let state = seed;
    const random = (): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    // Past the meta pages: the header check alone catches damage there.
    for (let k = 0; k < 200; k++) bytes[8192 + Math.floor(random() * (bytes.length - 8192))]! ^= 1 << Math.floor(random() * 8);
    writeFileSync(file, bytes);
    const r = await runUntilReady(dir);
    assert.ok(r.signal === null, `seed ${seed}: the broker died by ${r.signal}`);
    if (!r.ready) {
      assert.equal(r.status, 2, `seed ${seed}: ${r.stderr}`);
      assert.match(r.stderr, /data\.mdb is damaged: .*Restore the data dir from a backup/, `seed ${seed}`);
    } else {
      // It started (and stopped cleanly on SIGTERM): whatever it could not serve, it said so.
      const loaded = r.stdout.split('\n').find((l) => l.includes('"store loaded"'));
      assert.ok(loaded !== undefined, `seed ${seed}: no "store loaded" line`);
      const line = JSON.parse(loaded) as { retained: number; corruptRecords: number };
      assert.equal(line.retained + line.corruptRecords, RETAINED, `seed ${seed}: every record is served or reported`);
    }
  }
});

test('records written before checksums existed (format 0) still load, beside new ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'junction-format0-'));
  try {
    // The store as it was: msgpack with shared structures, no frame.
    const root = open(dir, { noSubdir: false, maxDbs: 16 });
    const old = root.openDB({ name: 'retained', sharedStructuresKey: Symbol.for('junction.structures') });
    await old.put('old/1', bareMessage('old/1', 'written before'));
    await root.close();
    const store = new LmdbStore(dir);
    await store.open();
    store.putRetained(bareMessage('new/1', 'written after'));
    await store.close();
    const again = new LmdbStore(dir);
    await again.open();
    assert.deepEqual([...again.loadRetained()], [bareMessage('new/1', 'written after'), bareMessage('old/1', 'written before')]);
    assert.equal(again.health().corruptRecords, 0);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.after(() => {
  if (template !== null) rmSync(template, { recursive: true, force: true });
});
