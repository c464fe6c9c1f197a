/**
 * Decoder fuzzing in CI: every corpus file (recorded seeds and saved failures) replays
 * cleanly, a short bounded fuzz of each decoder finds nothing, and the runner itself catches
 * each failure kind. Long runs: `junction fuzz --seconds 600` (docs/RELIABILITY.md).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { readCorpus } from '../../bench/fuzz/corpus.js';
import { fuzz, type FuzzReport } from '../../bench/fuzz/runner.js';
import { classify, type FailureKind, type FuzzFailure } from '../../bench/fuzz/target.js';
import type { TestContext } from '../interop/harness.js';
import { FUZZ_TARGETS } from '../../bench/fuzz/targets/index.js';

/** Replay limit per corpus file: generous against a loaded CI machine; the fuzzer itself uses 100 ms. */
const REPLAY_LIMIT_MS = 1000;
const FUZZ_SECONDS = Number(process.env['JUNCTION_FUZZ_SECONDS'] ?? 3);

for (const target of FUZZ_TARGETS) {
  test(`${target.name}: every seed and every file in test/corpus/${target.name}/ replays without a crash, hang or divergence`, () => {
    const corpus = [...target.seeds().map((input, i) => ({ file: `generated seed ${i}`, input })), ...readCorpus(target.name)];
    const problems: string[] = [];
    for (const { file, input } of corpus) {
      const t0 = performance.now();
      try {
        target.run(input);
      } catch (err) {
        const { kind, message } = classify(err);
        problems.push(`${path.basename(file)}: ${kind}: ${message}`);
        continue;
      }
      const ms = performance.now() - t0;
      if (ms > REPLAY_LIMIT_MS) problems.push(`${path.basename(file)}: hang: took ${Math.round(ms)} ms`);
    }
    assert.deepEqual(problems, [], `${problems.length} of ${corpus.length} corpus files fail:\n${problems.join('\n')}`);
  });

  test(`${target.name}: a ${FUZZ_SECONDS} s bounded fuzz finds no failure`, async () => {
    // A fixed seed keeps CI deterministic; `junction fuzz` explores with fresh seeds, and what it
    // finds lands in test/corpus/, which the replay test above runs every time.
    const seed = Number(process.env['JUNCTION_FUZZ_SEED'] ?? 20261125);
    const report = await fuzz(target.name, { seconds: FUZZ_SECONDS, seed, save: false });
    assert.ok(report.tried > 100, `only ${report.tried} inputs tried in ${report.seconds} s`);
    const lines = report.failures.map((f) => `${f.kind}: ${f.message}\n  input: ${f.input.toString('hex')}`);
    assert.deepEqual(lines, [], `fuzzing ${target.name} with seed ${seed} (repeat: junction fuzz --decoder ${target.name} --seed ${seed}) found:\n${lines.join('\n')}`);
  });
}

/**
 * Runs the planted-bug target with `kinds` enabled, saving into a temp corpus. The watchdog
 * (an input that never returns) is short only where the stuck input is what the test plants: on
 * a loaded machine a worker filling its heap, or starting, can stall longer than that.
 */
async function selftest(t: TestContext, kinds: string, seconds: number, watchdogMs = 3000): Promise<{ report: FuzzReport; files: string[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-fuzz-selftest-'));
  const saved = { selftest: process.env['JUNCTION_FUZZ_SELFTEST'], corpus: process.env['JUNCTION_CORPUS_DIR'] };
  process.env['JUNCTION_FUZZ_SELFTEST'] = kinds;
  process.env['JUNCTION_CORPUS_DIR'] = dir;
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const report = await fuzz('selftest', { seconds, seed: 7, save: true, watchdogMs, heapMb: 48 });
    const folder = path.join(dir, 'selftest');
    return { report, files: existsSync(folder) ? readdirSync(folder) : [] };
  } finally {
    for (const [key, value] of [
      ['JUNCTION_FUZZ_SELFTEST', saved.selftest],
      ['JUNCTION_CORPUS_DIR', saved.corpus],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

function found(report: FuzzReport, kind: FailureKind): FuzzFailure {
  const f = report.failures.find((x) => x.kind === kind);
  assert.ok(f, `no ${kind} found in ${report.tried} inputs; found: ${report.failures.map((x) => `${x.kind} (${x.message})`).join(', ') || 'nothing'}`);
  return f;
}

test('the fuzz runner reports a crash and a divergence, shrinks the input and saves it under the corpus', async (t) => {
  const { report, files } = await selftest(t, 'crash,divergence', 4);
  const crash = found(report, 'crash');
  assert.match(crash.message, /TypeError: planted crash/);
  assert.equal(crash.input.length, 3, `the crash input should be shrunk to 3 bytes, got ${crash.input.toString('hex')}`);
  assert.equal(crash.input.subarray(0, 2).toString('latin1'), 'CB', `the crash input should keep its trigger bytes, got ${crash.input.toString('hex')}`);
  assert.match(found(report, 'divergence').message, /planted divergence/);
  assert.ok(
    files.some((f) => /^crash-typeerror-planted-crash-[0-9a-f]{10}\.bin$/.test(f)),
    `crash input not saved by name; files: ${files.join(', ')}`,
  );
  assert.ok(
    files.some((f) => /^divergence-planted-divergence-[0-9a-f]{10}\.bin$/.test(f)),
    `divergence input not saved; files: ${files.join(', ')}`,
  );
});

test('the fuzz runner stops a decoder stuck in one input and keeps fuzzing with a new worker', async (t) => {
  const { report, files } = await selftest(t, 'hang', 2, 400);
  // The watchdog is short here, so a machine that starves the worker for 400 ms may add a hang of
  // its own; the planted one (input "HB...") must be among them.
  const hangs = report.failures.filter((f) => f.kind === 'hang');
  assert.ok(hangs.length > 0, `no hang found in ${report.tried} inputs`);
  assert.ok(
    hangs.some((h) => h.input.subarray(0, 2).toString('latin1') === 'HB'),
    `the stuck input (HB...) should be reported; hangs: ${hangs.map((h) => h.input.toString('hex')).join(', ')}`,
  );
  assert.ok(report.workerRestarts >= 1, 'a new worker carried on after the stuck one');
  assert.ok(
    files.some((f) => f.startsWith('hang-') && f.endsWith('.bin')),
    `hang input not saved; files: ${files.join(', ')}`,
  );
});

test('the fuzz runner reports unbounded allocation when a decoder runs its worker past the heap cap', async (t) => {
  const { report, files } = await selftest(t, 'allocation', 4);
  const alloc = found(report, 'allocation');
  assert.equal(alloc.input.subarray(0, 2).toString('latin1'), 'AB', `the allocation input should be the one running, got ${alloc.input.toString('hex')}`);
  assert.ok(
    files.some((f) => f.startsWith('allocation-') && f.endsWith('.bin')),
    `allocation input not saved; files: ${files.join(', ')}`,
  );
});
