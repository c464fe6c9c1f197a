/**
 * The micro-benchmark runner (`make bench`): runs every micro-benchmark of registry.ts, or the
 * ones named, each in a fresh node process (so one's JIT and heap never skew the next), with
 * short sizes unless --full, and says which ran, how long each took and which failed.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FlagDef } from '../../src/config/flags.js';
import { parseToolArgs, type ToolSpec } from '../lib/tool-cli.js';
import { MICRO_BENCHES, type MicroBench } from './registry.js';

interface RunnerOptions {
  list: boolean;
  full: boolean;
}

const FLAGS: readonly FlagDef<keyof RunnerOptions>[] = [
  { group: 'Flags', name: 'list', key: 'list', kind: 'bool', default: false, help: 'list the micro-benchmarks and what each measures, run nothing' },
  {
    group: 'Flags',
    name: 'full',
    key: 'full',
    kind: 'bool',
    default: false,
    help: 'run each with its own default sizes (the figures in docs/PERFORMANCE.md; up to a million subscriptions, several minutes) instead of the short ones',
  },
];

const NAMES = MICRO_BENCHES.map((b) => b.name);

const SPEC: ToolSpec = {
  command: 'node dist/bench/micro/main.js',
  usage: '[name ...] [flags]',
  about: [
    "Runs the micro-benchmarks (tinybench and timed loops, in process, no network), all of them or the ones named, one fresh node process each. A benchmark's own flags: node dist/bench/micro/<name>.bench.js --help.",
    `Names: ${NAMES.join(', ')}.`,
  ],
  flags: FLAGS,
  positional: { name: 'micro-benchmark', values: NAMES, max: NAMES.length },
  examples: ['node dist/bench/micro/main.js codec topic-trie', 'make bench BENCH="--full"'],
};

/** Runs one micro-benchmark in its own process, its output going straight to ours; resolves to its exit code. */
function runOne(bench: MicroBench, full: boolean): Promise<number> {
  const script = fileURLToPath(new URL(`./${bench.name}.bench.js`, import.meta.url));
  const args = [...(bench.nodeOptions ?? []), script, ...(full ? [] : (bench.short ?? []))];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.once('error', () => resolve(1));
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

const { values: o, positional } = parseToolArgs<RunnerOptions>(SPEC);
const chosen = positional.length === 0 ? MICRO_BENCHES : MICRO_BENCHES.filter((b) => positional.includes(b.name));
if (o.list) {
  const width = Math.max(...NAMES.map((n) => n.length)) + 2;
  for (const b of MICRO_BENCHES) console.log(`${b.name.padEnd(width)}${b.summary}`);
} else {
  const started = Date.now();
  const failed: string[] = [];
  for (const [i, bench] of chosen.entries()) {
    const t0 = Date.now();
    console.log(`\n[${i + 1}/${chosen.length}] ${bench.name}: ${bench.summary}${o.full || bench.short === undefined ? '' : ` (${bench.short.join(' ')})`}`);
    const code = await runOne(bench, o.full);
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    console.log(`[${i + 1}/${chosen.length}] ${bench.name} ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${seconds} s`);
    if (code !== 0) failed.push(bench.name);
  }
  const total = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`\n${chosen.length - failed.length} of ${chosen.length} micro-benchmarks ran in ${total} s${failed.length > 0 ? `; failed: ${failed.join(', ')}` : ''}`);
  process.exitCode = failed.length > 0 ? 1 : 0;
}
