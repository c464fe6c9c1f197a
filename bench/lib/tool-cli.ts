/**
 * The command line of a development tool in bench/ (scenario benches, micro-benchmarks and their
 * runner): flags from a table read by the shared parser (src/config/flags.ts), --help generated
 * from it, and bad usage refused with exit code 2 and a message naming the flag.
 */
import { writeSync } from 'node:fs';
import { parseFlags, type FlagDef, type ParseSpec, type Parsed } from '../../src/config/flags.js';
import { flagList, wrap } from '../../src/config/help.js';
import { ConfigError } from '../../src/errors.js';

/** What a tool is and which flags it takes. */
export interface ToolSpec {
  /** How it is run, for the usage line and messages: "node dist/bench/scenarios/flood.js". */
  readonly command: string;
  /** Usage after the command when it takes more than flags: "[name ...] [flags]". */
  readonly usage?: string;
  /** What it does and reports, one paragraph per entry, shown by --help. */
  readonly about: readonly string[];
  readonly flags: readonly FlagDef[];
  readonly positional?: ParseSpec['positional'];
  /** Example command lines for --help. */
  readonly examples?: readonly string[];
}

const EXIT_USAGE = 2;

/** The tool's --help page. */
function toolHelp(spec: ToolSpec): string {
  const lines = [`Usage: ${spec.command} ${spec.usage ?? '[flags]'}`, ''];
  for (const paragraph of spec.about) lines.push(wrap(paragraph, 0), '');
  if (spec.flags.length > 0) lines.push(flagList(spec.flags).trimEnd(), '');
  for (const example of spec.examples ?? []) lines.push(`Example: ${example}`);
  return `${lines.join('\n').trimEnd()}\n`;
}

/** Prints `message` as bad usage of the tool and exits with code 2. */
function usageError(spec: ToolSpec, message: string): never {
  writeSync(2, `${spec.command}: ${message}\n`);
  process.exit(EXIT_USAGE);
}

/** Parses the tool's arguments: on --help prints the help and exits 0; on bad usage prints why and exits 2. */
export function parseToolArgs<T>(spec: ToolSpec, argv: readonly string[] = process.argv.slice(2)): Parsed<T> {
  if (argv.includes('--help') || argv.includes('-h')) {
    writeSync(1, toolHelp(spec));
    process.exit(0);
  }
  try {
    return parseFlags<T>(spec.flags, argv, { command: spec.command, positional: spec.positional });
  } catch (err) {
    if (err instanceof ConfigError) usageError(spec, err.message);
    throw err;
  }
}

/** The comma-separated words of flag `--name`'s value, each one of `allowed`; bad usage otherwise. */
export function wordList<W extends string>(spec: ToolSpec, name: string, text: string, allowed: readonly W[]): W[] {
  const words = text.split(',').filter((w) => w !== '');
  const bad = words.find((w) => !(allowed as readonly string[]).includes(w));
  if (bad !== undefined || words.length === 0) usageError(spec, `--${name} must be a comma-separated list of ${allowed.join(', ')} (got "${text}")`);
  return words as W[];
}

/** The comma-separated positive integers of flag `--name`'s value; bad usage otherwise. */
export function numberList(spec: ToolSpec, name: string, text: string): number[] {
  const numbers = text.split(',').map((n) => (/^\d+$/.test(n) ? Number(n) : NaN));
  if (numbers.length === 0 || numbers.some((n) => !Number.isSafeInteger(n) || n <= 0)) usageError(spec, `--${name} must be a comma-separated list of positive integers (got "${text}")`);
  return numbers;
}
