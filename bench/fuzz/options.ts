/**
 * Options of `junction fuzz`: one flag table read by the shared parser (src/config/flags.ts).
 * Kept apart from the targets so `junction --help` and `junction fuzz --help` do not load the
 * decoders.
 */
import { parseFlags, type FlagDef } from '../../src/config/flags.js';
import { flagList } from '../../src/config/help.js';

/** The decoders with a fuzz target in targets/; targets/index.ts maps each name to its target. */
export const FUZZ_DECODERS = ['mqtt', 'stomp', 'jt808', 'gbt32960'] as const;
/** One fuzzed decoder. */
export type FuzzDecoder = (typeof FUZZ_DECODERS)[number];

/** What `junction fuzz` was asked to do. */
export interface FuzzCommandOptions {
  decoder: FuzzDecoder | 'all';
  seconds: number;
  seed: number;
  save: boolean;
}

/** A fresh seed per run: the run prints it, so a finding can be repeated with --seed. */
function randomSeed(): number {
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** The flags of `junction fuzz`, in --help order. */
export const FUZZ_FLAGS: readonly FlagDef<keyof FuzzCommandOptions>[] = [
  { group: 'Flags', name: 'decoder', key: 'decoder', kind: 'enum', default: 'all', values: [...FUZZ_DECODERS, 'all'], help: 'the decoder to fuzz, or all of them one after the other' },
  { group: 'Flags', name: 'seconds', key: 'seconds', kind: 'int', default: 10, min: 1, max: 86_400, valueName: 'SECONDS', help: 'time per decoder' },
  {
    group: 'Flags',
    name: 'seed',
    key: 'seed',
    kind: 'int',
    default: randomSeed,
    defaultText: 'a fresh one, printed',
    min: 0,
    max: 0xffff_ffff,
    help: 'seed of the mutations: the same seed repeats a run',
  },
  { group: 'Flags', name: 'save', key: 'save', kind: 'bool', default: true, help: 'save each failing input under test/corpus/<decoder>/' },
];

/** Parses the arguments after `fuzz`; throws ConfigError naming the flag at fault. */
export function parseFuzzOptions(argv: readonly string[]): FuzzCommandOptions {
  return parseFlags<FuzzCommandOptions>(FUZZ_FLAGS, argv, { command: 'junction fuzz' }).values;
}

/** The `junction fuzz --help` page, generated from FUZZ_FLAGS. */
export function fuzzHelp(): string {
  return [
    'Usage: junction fuzz [flags]          (from a checkout also: npm run fuzz -- [flags])',
    '',
    'Fuzzes the protocol decoders: replays each seed and every file of test/corpus/<decoder>/, then',
    'mutates them for --seconds, in a worker thread watched for crashes, hangs (100 ms per input),',
    'divergence between twin decoders and runaway allocation. Prints inputs tried and failures;',
    'exits 1 when anything failed.',
    '',
    flagList(FUZZ_FLAGS),
    'Example: junction fuzz --decoder mqtt --seconds 300 --seed 2026',
    '',
  ].join('\n');
}
