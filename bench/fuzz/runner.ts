/**
 * Runs one fuzz target for a bounded time in a worker thread and collects its failures. The
 * parent keeps a watchdog: a worker whose input counter stops moving is stuck (hang), a worker
 * killed by its heap cap ran into unbounded allocation; in both cases the input it was on is
 * read from shared memory, reported, and a fresh worker carries on with the time left.
 */
import { Worker } from 'node:worker_threads';
import { saveFailure } from './corpus.js';
import type { FailureKind, FuzzFailure } from './target.js';
import { SHARED_HEADER, failureKey, type WorkerInput, type WorkerMessage } from './worker-protocol.js';

/** How long and how hard to fuzz one target. */
export interface FuzzOptions {
  seconds: number;
  seed: number;
  /** Save each failing input under test/corpus/<target>/. */
  save: boolean;
  /** Only replay seeds and corpus, no mutation. */
  replayOnly?: boolean;
  /** Per-input time limit (issue 9: 100 ms). */
  hangMs?: number;
  /** A worker whose counter stands still this long is stuck in one input. */
  watchdogMs?: number;
  /** Old-generation heap cap of the worker, MiB. */
  heapMb?: number;
  /** External (Buffer) memory limit after one input, MiB. */
  externalMb?: number;
}

/** What one target's run found. */
export interface FuzzReport {
  readonly target: string;
  readonly seconds: number;
  readonly tried: number;
  readonly corpusFiles: number;
  readonly poolSize: number;
  readonly workerRestarts: number;
  /** The target's note, e.g. whether the native twin was compared. */
  readonly note: string;
  readonly failures: FuzzFailure[];
  /** Paths of saved failing inputs (when save was on). */
  readonly saved: string[];
}

const MAX_INPUT = 65_536;
/** How long a fresh worker may take to start its first input before it counts as broken. */
const WORKER_START_MS = 30_000;

interface RoundResult {
  tried: number;
  pool: number;
  corpus: number;
  note: string;
  /** Set when the worker had to be stopped: the failure and how many inputs it had started. */
  stopped: { kind: FailureKind; message: string; input: Buffer; started: number } | null;
}

function round(target: string, seed: number, until: number, o: Required<FuzzOptions>, onFailure: (f: FuzzFailure) => void): Promise<RoundResult> {
  const shared = new SharedArrayBuffer(SHARED_HEADER + MAX_INPUT);
  const ctl = new Int32Array(shared, 0, 2);
  const data = new Uint8Array(shared, SHARED_HEADER);
  const current = (): Buffer => Buffer.from(data.subarray(0, Atomics.load(ctl, 1)));
  const input: WorkerInput = {
    target,
    seed,
    until,
    hangMs: o.hangMs,
    externalLimitBytes: o.externalMb * 1048576,
    shared,
    replayOnly: o.replayOnly,
  };
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: input,
    resourceLimits: { maxOldGenerationSizeMb: o.heapMb, maxYoungGenerationSizeMb: 32 },
  });
  return new Promise((resolve) => {
    let settled = false;
    let lastCount = -1;
    let lastMove = Date.now();
    const finish = (r: RoundResult): void => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      void worker.terminate();
      resolve(r);
    };
    const watchdog = setInterval(() => {
      const count = Atomics.load(ctl, 0);
      if (count !== lastCount) {
        lastCount = count;
        lastMove = Date.now();
      } else if (count === 0) {
        // Still starting (loading its modules and the corpus): on a loaded machine that alone can
        // outlast a short watchdog, and no input has been handed to the decoder yet.
        if (Date.now() - lastMove > WORKER_START_MS) {
          finish({ tried: 0, pool: 0, corpus: 0, note: '', stopped: { kind: 'crash', message: `the fuzz worker did not start within ${WORKER_START_MS} ms`, input: Buffer.alloc(0), started: 0 } });
        }
      } else if (Date.now() - lastMove > o.watchdogMs) {
        finish({ tried: count, pool: 0, corpus: 0, note: '', stopped: { kind: 'hang', message: `no return from one input within ${o.watchdogMs} ms (stopped)`, input: current(), started: count } });
      }
    }, 50);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'failure') onFailure({ target, kind: m.kind, message: m.message, input: Buffer.from(m.input) });
      else finish({ tried: m.tried, pool: m.pool, corpus: m.corpus, note: m.note, stopped: null });
    });
    worker.on('error', (err: Error & { code?: string }) => {
      const count = Atomics.load(ctl, 0);
      const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      finish({
        tried: count,
        pool: 0,
        corpus: 0,
        note: '',
        stopped: {
          kind: oom ? 'allocation' : 'crash',
          message: oom ? `worker heap passed ${o.heapMb} MiB` : `worker died: ${err.message}`,
          input: current(),
          started: count,
        },
      });
    });
    worker.on('exit', (code) => {
      finish({
        tried: Atomics.load(ctl, 0),
        pool: 0,
        corpus: 0,
        note: '',
        stopped: settled ? null : { kind: 'crash', message: `worker exited with code ${code}`, input: current(), started: Atomics.load(ctl, 0) },
      });
    });
  });
}

/** Fuzzes `target` for opts.seconds; resolves with what was tried and found. */
export async function fuzz(target: string, opts: FuzzOptions): Promise<FuzzReport> {
  const o: Required<FuzzOptions> = { replayOnly: false, hangMs: 100, watchdogMs: 2000, heapMb: 256, externalMb: 256, ...opts };
  const started = Date.now();
  const until = started + o.seconds * 1000;
  const failures: FuzzFailure[] = [];
  const saved: string[] = [];
  const seen = new Set<string>();
  const record = (f: FuzzFailure): void => {
    const key = failureKey(f.kind, f.message);
    if (seen.has(key)) return;
    seen.add(key);
    failures.push(f);
    if (o.save) saved.push(saveFailure(f));
  };
  let tried = 0;
  let pool = 0;
  let corpus = 0;
  let restarts = 0;
  let note = '';
  for (let seed = o.seed; ; seed = (seed + 0x9e3779b9) >>> 0) {
    const r = await round(target, seed, until, o, record);
    tried += r.tried;
    pool = Math.max(pool, r.pool);
    corpus = Math.max(corpus, r.corpus);
    if (r.note !== '') note = r.note;
    if (r.stopped === null) break;
    record({ target, kind: r.stopped.kind, message: r.stopped.message, input: r.stopped.input });
    // A stuck replay would stop at the same corpus file again and again: give up instead.
    if (o.replayOnly || Date.now() >= until) break;
    restarts++;
  }
  return { target, seconds: (Date.now() - started) / 1000, tried, corpusFiles: corpus, poolSize: pool, workerRestarts: restarts, note, failures, saved };
}
