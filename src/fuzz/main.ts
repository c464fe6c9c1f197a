/**
 * `npm run fuzz -- [--decoder NAME|all] [--seconds N] [--seed S] [--no-save]`: fuzzes each
 * decoder for N seconds (default 10), prints inputs tried and failures, saves failing inputs
 * under test/corpus/<decoder>/ and exits 1 when anything failed.
 */
import { fuzz, type FuzzReport } from './runner.js';
import { FUZZ_TARGETS, PENDING_TARGETS, fuzzTarget } from './targets/index.js';

interface Args {
  decoder: string;
  seconds: number;
  seed: number;
  save: boolean;
}

function usage(problem: string): never {
  console.error(`fuzz: ${problem}`);
  console.error(`usage: npm run fuzz -- [--decoder ${[...FUZZ_TARGETS.map((t) => t.name), 'all'].join('|')}] [--seconds N] [--seed S] [--no-save]`);
  process.exit(2);
}

function parse(argv: string[]): Args {
  const a: Args = { decoder: 'all', seconds: 10, seed: (Date.now() ^ (process.pid << 16)) >>> 0, save: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--decoder') a.decoder = value();
    else if (flag === '--seconds') a.seconds = Number(value());
    else if (flag === '--seed') a.seed = Number(value()) >>> 0;
    else if (flag === '--no-save') a.save = false;
    else usage(`unknown argument '${flag}'`);
  }
  if (!Number.isFinite(a.seconds) || a.seconds <= 0) usage('--seconds must be a positive number');
  if (a.decoder !== 'all' && fuzzTarget(a.decoder) === undefined) {
    if (PENDING_TARGETS.includes(a.decoder)) usage(`decoder '${a.decoder}' has no fuzz target yet (its codec has not landed)`);
    usage(`unknown decoder '${a.decoder}'`);
  }
  return a;
}

function print(r: FuzzReport): void {
  const rate = Math.round(r.tried / Math.max(r.seconds, 0.001));
  console.log(`${r.target}: ${r.tried} inputs in ${r.seconds.toFixed(1)} s (${rate}/s), corpus ${r.corpusFiles} files, pool ${r.poolSize}, ${r.failures.length} failure(s)${r.note ? ' [' + r.note + ']' : ''}`);
  for (const [i, f] of r.failures.entries()) {
    console.log(`  ${f.kind}: ${f.message}`);
    console.log(`    input (${f.input.length} bytes): ${f.input.toString('hex').slice(0, 160)}${f.input.length > 80 ? '…' : ''}`);
    if (r.saved[i] !== undefined) console.log(`    saved: ${r.saved[i]}`);
  }
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  const names = a.decoder === 'all' ? FUZZ_TARGETS.map((t) => t.name) : [a.decoder];
  console.log(`fuzz: seed ${a.seed}, ${a.seconds} s per decoder (repeat with --seed ${a.seed})`);
  let failed = 0;
  for (const name of names) {
    const r = await fuzz(name, { seconds: a.seconds, seed: a.seed, save: a.save });
    print(r);
    failed += r.failures.length;
  }
  if (a.decoder === 'all' && PENDING_TARGETS.length > 0) console.log(`not covered yet: ${PENDING_TARGETS.join(', ')}`);
  process.exitCode = failed > 0 ? 1 : 0;
}

void main();
