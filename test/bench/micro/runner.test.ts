/**
 * The micro-benchmark runner (`make bench`) from dist/: --help and --list name every benchmark
 * of the registry, and a name or flag it does not know is refused with exit code 2.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MICRO_BENCHES } from '../../../bench/micro/registry.js';
import { run } from '../../interop/harness.js';

const runner = (args: string[]) => run(process.execPath, ['dist/bench/micro/main.js', ...args], 10_000);

test('--help shows the usage, every benchmark name and the runner flags', async () => {
  const r = await runner(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: node dist\/bench\/micro\/main\.js \[name \.\.\.\] \[flags\]/);
  for (const bench of MICRO_BENCHES) assert.match(r.stdout, new RegExp(`\\b${bench.name}\\b`), `${bench.name} missing`);
  assert.match(r.stdout, /--\[no-\]list /);
  assert.match(r.stdout, /--\[no-\]full /);
});

test('--list prints each benchmark with its summary and runs nothing', async () => {
  const r = await runner(['--list']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(/\s+/)[0]),
    MICRO_BENCHES.map((b) => b.name),
  );
  assert.doesNotMatch(r.stdout, /\[1\//);
});

test('an unknown benchmark or flag is refused with exit code 2, naming it', async () => {
  const name = await runner(['codecs']);
  assert.equal(name.code, 2);
  assert.match(name.stderr, /unknown micro-benchmark "codecs": one of codec, /);
  const flag = await runner(['--fulll']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /unknown flag --fulll \(did you mean --full\?\)/);
});

test('the login benchmark logs 64 clients in at a time, closes them, and reports the CPU per login', async () => {
  const r = await run(process.execPath, ['dist/bench/micro/login.bench.js', '--seconds', '1', '--warmup', '0', '--protocol', '5'], 20_000);
  assert.equal(r.code, 0, r.stderr);
  const row = /│\s*0\s*│\s*'5\.0'\s*│\s*(\d+)\s*│\s*([\d.]+)\s*│/.exec(r.stdout);
  assert.ok(row !== null, `no result row in:\n${r.stdout}`);
  assert.ok(Number(row[1]) >= 64 && Number(row[2]) > 0, `logins ${row[1]}, CPU per login ${row[2]} µs`);
});
