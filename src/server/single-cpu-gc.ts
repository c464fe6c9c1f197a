/**
 * V8 marks, sweeps and scavenges on helper threads. In a process that may use one CPU (taskset,
 * a cgroup cpuset, one broker per core with --tcp-reuse-port) those threads take turns with the
 * event loop on that CPU, and the kernel gives each an equal share: during a connect storm they
 * held the core for 9-21 ms at a time while the loop waited (docs/PERFORMANCE.md, "GC threads on
 * one core"). `node --single-threaded-gc` keeps that work on the main thread, in steps between
 * events. V8 refuses the flag once it runs, so `junction start` starts itself again with it,
 * before it opens anything, through the native module's execv: same process id, descriptors and
 * environment, so a supervisor (systemd, a container runtime) sees one process throughout.
 */
import { availableParallelism } from 'node:os';
import type { NativeBinding } from '../native/binding.js';

/** What --single-threaded-gc accepts. */
export const SINGLE_CPU_GC_MODES = ['auto', 'on', 'off'] as const;
export type SingleCpuGcMode = (typeof SINGLE_CPU_GC_MODES)[number];

const FLAG = '--single-threaded-gc';
/** Set across the restart: a process started by it never starts itself again. */
const RESTARTED = 'JUNCTION_GC_RESTARTED';

/** What became of --single-threaded-gc: on, not wanted here, or wanted but not applied (why). */
export type SingleCpuGc = { readonly state: 'on' } | { readonly state: 'not wanted' } | { readonly state: 'failed'; readonly reason: string };

/** What to do at start: keep the process as it is ('on' or 'not wanted'), restart it with the flag, or report a failure. */
export function singleCpuGcPlan(mode: SingleCpuGcMode, execArgv: readonly string[], cpus: number, restarted: boolean): SingleCpuGc | 'restart' {
  if (execArgv.includes(FLAG)) return { state: 'on' };
  if (mode === 'off' || (mode === 'auto' && cpus > 1)) return { state: 'not wanted' };
  // The restart adds the flag: a restarted process without it was started some other way.
  if (restarted) return { state: 'failed', reason: 'the restarted process has no --single-threaded-gc' };
  return 'restart';
}

/**
 * Starts this process again with --single-threaded-gc when `mode` asks for it (does not return
 * then); otherwise says whether it is on, not wanted, or what stopped it (no native module, execv).
 */
export function restartForSingleCpuGc(mode: SingleCpuGcMode, native: NativeBinding | null): SingleCpuGc {
  const restarted = process.env[RESTARTED] === '1';
  delete process.env[RESTARTED];
  const plan = singleCpuGcPlan(mode, process.execArgv, availableParallelism(), restarted);
  if (plan !== 'restart') return plan;
  if (native === null || typeof native.execNode !== 'function') {
    return { state: 'failed', reason: 'the native module (execv) is not loaded: start the broker with node --single-threaded-gc' };
  }
  process.env[RESTARTED] = '1';
  const args = [process.argv0, ...process.execArgv, FLAG, ...process.argv.slice(1)];
  try {
    return native.execNode(process.execPath, args.join('\u0000'));
  } catch (err) {
    delete process.env[RESTARTED];
    return { state: 'failed', reason: err instanceof Error ? err.message : String(err) };
  }
}
