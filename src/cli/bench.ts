/** `junction bench`: parses its flags, runs the load generator (bench/load/) and prints the summary and JSON. */

import { writeFileSync, writeSync } from 'node:fs';
import { benchHelp, parseBenchOptions } from '../../bench/load/options.js';

/** Runs `junction bench` with the arguments after `bench`; resolves to the exit code. */
export async function runBenchCommand(argv: readonly string[]): Promise<number> {
  const options = parseBenchOptions(argv);
  // Loaded only here so `junction --help` never pays for the generator's modules.
  const { runBench } = await import('../../bench/load/run.js');
  const { formatSummary } = await import('../../bench/load/report.js');
  const result = await runBench(options, (line) => writeSync(2, `${line}\n`));
  const json = `${JSON.stringify(result, null, 2)}\n`;
  if (options.json === '-') writeSync(1, json);
  else {
    writeSync(options.json === undefined ? 1 : 2, formatSummary(result));
    if (options.json !== undefined) writeFileSync(options.json, json);
  }
  // A run in which nothing connected measured nothing.
  return result.connections.connected > 0 ? 0 : 1;
}

export { benchHelp };
