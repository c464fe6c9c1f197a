/**
 * The fuzz loop, run in a worker thread so the parent can stop a decoder stuck in a loop or
 * past its heap cap and still know the input: each input is copied into shared memory before
 * it runs. Messages to the parent: 'failure' (one per distinct failure), 'done'.
 */
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { readCorpus } from './corpus.js';
import { Mutator, Rng } from './mutate.js';
import { FUZZ_TARGETS } from './targets/index.js';
import { selftestTarget } from './targets/selftest.js';
import { classify, type FailureKind, type FuzzTarget } from './target.js';
import { SHARED_HEADER, failureKey, type WorkerInput, type WorkerMessage } from './worker-protocol.js';

/** Mutation pool bound: inputs with new outcome labels join until this many. */
const POOL_MAX = 4096;
/** Attempts when shrinking a failing input. */
const SHRINK_TRIES = 300;

function runOne(target: FuzzTarget, input: Buffer, hangMs: number, externalLimit: number): { kind: FailureKind; message: string } | string {
  const t0 = performance.now();
  let label: string;
  try {
    label = target.run(input) ?? '';
  } catch (err) {
    return classify(err);
  }
  const ms = performance.now() - t0;
  if (ms > hangMs) {
    // A GC pause or a busy machine can stretch one run: only a second slow run counts.
    const t1 = performance.now();
    try {
      target.run(input);
    } catch {
      /* same input, already returned cleanly once */
    }
    const again = performance.now() - t1;
    if (again > hangMs) return { kind: 'hang', message: `one input took ${Math.round(Math.min(ms, again))} ms (limit ${hangMs} ms)` };
  }
  const external = getHeapStatistics().external_memory;
  if (external > externalLimit) {
    return { kind: 'allocation', message: `external memory ${Math.round(external / 1048576)} MiB after one input (limit ${Math.round(externalLimit / 1048576)} MiB)` };
  }
  return label;
}

/** Shrinks a failing input by deleting chunks while the same failure reproduces. */
function shrink(target: FuzzTarget, input: Buffer, key: string, hangMs: number, externalLimit: number): Buffer {
  let best = input;
  let tries = 0;
  for (let chunk = best.length >> 1; chunk >= 1 && tries < SHRINK_TRIES; chunk >>= 1) {
    for (let at = 0; at + chunk <= best.length && tries < SHRINK_TRIES; ) {
      tries++;
      const candidate = Buffer.concat([best.subarray(0, at), best.subarray(at + chunk)]);
      const r = runOne(target, candidate, hangMs, externalLimit);
      if (typeof r !== 'string' && failureKey(r.kind, r.message) === key) best = candidate;
      else at += chunk;
    }
  }
  return best;
}

function main(): void {
  const w = workerData as WorkerInput;
  const port = parentPort!;
  const target = [...FUZZ_TARGETS, ...((process.env['JUNCTION_FUZZ_SELFTEST'] ?? '') !== '' ? [selftestTarget] : [])].find((t) => t.name === w.target);
  if (target === undefined) throw new Error(`no fuzz target '${w.target}'`);
  const ctl = new Int32Array(w.shared, 0, 2);
  const data = new Uint8Array(w.shared, SHARED_HEADER);
  const maxSize = Math.min(target.maxInputSize ?? 4096, data.length);
  const corpus = readCorpus(target.name).map((e) => e.input);
  const pool: Buffer[] = [...target.seeds(), ...corpus];
  const labels = new Set<string>();
  const reported = new Set<string>();
  let tried = 0;

  const handle = (input: Buffer): void => {
    const n = Math.min(input.length, data.length);
    data.set(input.subarray(0, n));
    Atomics.store(ctl, 1, n);
    Atomics.add(ctl, 0, 1);
    tried++;
    const r = runOne(target, input, w.hangMs, w.externalLimitBytes);
    if (typeof r === 'string') {
      if (!labels.has(r)) {
        labels.add(r);
        if (pool.length < POOL_MAX) pool.push(input);
      }
      return;
    }
    const key = failureKey(r.kind, r.message);
    if (reported.has(key)) return;
    reported.add(key);
    const small = r.kind === 'hang' ? input : shrink(target, input, key, w.hangMs, w.externalLimitBytes);
    port.postMessage({ type: 'failure', kind: r.kind, message: r.message, input: new Uint8Array(small) } satisfies WorkerMessage);
  };

  // Every seed and corpus file as it is first: the corpus replay.
  for (const input of [...pool]) handle(input);
  if (!w.replayOnly) {
    const rng = new Rng(w.seed);
    const mutator = new Mutator(rng, maxSize);
    while (Date.now() < w.until) {
      // Check the clock every 64 inputs: Date.now() per input would cost a tenth of the time.
      for (let i = 0; i < 64; i++) {
        handle(mutator.mutate(pool[rng.below(pool.length)]!, pool[rng.below(pool.length)]!));
      }
    }
  }
  port.postMessage({ type: 'done', tried, pool: pool.length, corpus: corpus.length, note: target.note?.() ?? '' } satisfies WorkerMessage);
}

main();
