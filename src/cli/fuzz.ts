/** `junction fuzz`: parses its flags and runs the decoder fuzzer (bench/fuzz/). */

import { writeSync } from 'node:fs';
import { fuzzHelp, parseFuzzOptions } from '../../bench/fuzz/options.js';

/** Runs `junction fuzz` with the arguments after `fuzz`; resolves to the exit code (1 when anything failed). */
export async function runFuzzCommand(argv: readonly string[]): Promise<number> {
  const options = parseFuzzOptions(argv);
  // Loaded only here so `junction --help` never pays for the decoders and the fuzz runner.
  const { runFuzz } = await import('../../bench/fuzz/run.js');
  const failed = await runFuzz(options, (line) => writeSync(1, `${line}\n`));
  return failed > 0 ? 1 : 0;
}

export { fuzzHelp };
