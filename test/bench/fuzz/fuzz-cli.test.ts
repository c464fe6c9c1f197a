/**
 * `junction fuzz` from dist/: --help lists the flag table, bad usage ends with exit code 2 and
 * a message naming the flag, and a short run of one decoder reports what it tried.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FUZZ_DECODERS, FUZZ_FLAGS } from '../../../bench/fuzz/options.js';
import { run } from '../../interop/harness.js';

const fuzz = (args: string[], timeoutMs = 10_000) => run(process.execPath, ['dist/src/cli/main.js', 'fuzz', ...args], timeoutMs);

test('junction fuzz --help lists every flag and every decoder', async () => {
  const r = await fuzz(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: junction fuzz \[flags\]/);
  for (const flag of FUZZ_FLAGS) assert.match(r.stdout, new RegExp(`--${flag.kind === 'bool' ? '\\[no-\\]' : ''}${flag.name}\\b`), `--${flag.name} missing`);
  assert.match(r.stdout, new RegExp(`--decoder ${[...FUZZ_DECODERS, 'all'].join('\\|')}`));
});

test('an unknown flag or a bad value is refused with exit code 2 and names the flag', async () => {
  const unknown = await fuzz(['--secnds', '3']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^junction: unknown flag --secnds \(did you mean --seconds\?\)/);
  const decoder = await fuzz(['--decoder', 'mqt']);
  assert.equal(decoder.code, 2);
  assert.match(decoder.stderr, /--decoder must be one of mqtt, stomp, jt808, gbt32960, all \(got "mqt"\)/);
  const seconds = await fuzz(['--seconds', '0']);
  assert.equal(seconds.code, 2);
  assert.match(seconds.stderr, /--seconds must be a number of seconds between 1 and 86400 \(got "0"\)/);
});

test('a one-second run of one decoder prints its seed and what it tried, and exits 0', async () => {
  const r = await fuzz(['--decoder', 'stomp', '--seconds', '1', '--seed', '7', '--no-save'], 30_000);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^fuzz: seed 7, 1 s per decoder \(repeat with --seed 7\)$/m);
  assert.match(r.stdout, /^stomp: \d+ inputs in [\d.]+ s \(\d+\/s\), corpus \d+ files, pool \d+, 0 failure\(s\)/m);
});
