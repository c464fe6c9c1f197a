/** `junction fuzz`'s run: fuzzes each chosen decoder in turn and prints what each found. */
import type { FuzzCommandOptions } from './options.js';
import { fuzz, type FuzzReport } from './runner.js';
import { FUZZ_TARGETS, PENDING_TARGETS } from './targets/index.js';

/** Where report lines go (stdout in the CLI). */
export type LineSink = (line: string) => void;

/** Fuzzes the decoders `o` names; resolves to the number of failures found. */
export async function runFuzz(o: FuzzCommandOptions, out: LineSink): Promise<number> {
  const names = o.decoder === 'all' ? FUZZ_TARGETS.map((t) => t.name) : [o.decoder];
  out(`fuzz: seed ${o.seed}, ${o.seconds} s per decoder (repeat with --seed ${o.seed})`);
  let failed = 0;
  for (const name of names) {
    const r = await fuzz(name, { seconds: o.seconds, seed: o.seed, save: o.save });
    printReport(r, out);
    failed += r.failures.length;
  }
  if (o.decoder === 'all' && PENDING_TARGETS.length > 0) out(`not covered yet: ${PENDING_TARGETS.join(', ')}`);
  return failed;
}

function printReport(r: FuzzReport, out: LineSink): void {
  const rate = Math.round(r.tried / Math.max(r.seconds, 0.001));
  out(
    `${r.target}: ${r.tried} inputs in ${r.seconds.toFixed(1)} s (${rate}/s), corpus ${r.corpusFiles} files, pool ${r.poolSize}, ${r.failures.length} failure(s)${r.note ? ' [' + r.note + ']' : ''}`,
  );
  for (const [i, f] of r.failures.entries()) {
    out(`  ${f.kind}: ${f.message}`);
    out(`    input (${f.input.length} bytes): ${f.input.toString('hex').slice(0, 160)}${f.input.length > 80 ? '…' : ''}`);
    if (r.saved[i] !== undefined) out(`    saved: ${r.saved[i]}`);
  }
}
