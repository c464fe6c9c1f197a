/**
 * The micro-benchmarks: one file per entry (bench/micro/<name>.bench.ts), each a script of its
 * own that the runner (main.ts) starts in a fresh process. Each file reads its flags with
 * microSpec(name, flags), so its --help shows the summary written here once.
 */
import type { FlagDef } from '../../src/config/flags.js';
import type { ToolSpec } from '../lib/tool-cli.js';

/** One micro-benchmark as the runner knows it. */
export interface MicroBench {
  readonly name: string;
  /** One line: what it measures. */
  readonly summary: string;
  /** node options it needs, e.g. --expose-gc to measure heap per subscription. */
  readonly nodeOptions?: readonly string[];
  /** Its flags in the runner's default (short) run; --full runs it with its own defaults. */
  readonly short?: readonly string[];
}

/** Every micro-benchmark, in the order the runner runs them. */
export const MICRO_BENCHES: readonly MicroBench[] = [
  { name: 'codec', summary: 'MQTT codec hot path: scanFrames over 64 KiB of small PUBLISH packets, decoding and encoding one PUBLISH (3.1.1 and 5.0)' },
  { name: 'stomp-codec', summary: 'STOMP codec: parsing SEND frames (one, and 64 KiB of them) and encoding a RECEIPT' },
  { name: 'jt808-codec', summary: 'JT/T 808 codec: XOR check and escaping per frame and per 64 KiB, and the whole uplink decode to JSON' },
  { name: 'native-scanner', summary: 'native MQTT frame scanner against its TypeScript twin, and the bare N-API call cost (needs native/junction.node)' },
  { name: 'topic-trie', summary: 'TopicTrie match rate and heap per subscription on the fleet mix, cache on and off', nodeOptions: ['--expose-gc'], short: ['--sizes', '10000,100000'] },
  { name: 'native-trie', summary: 'native topic trie against the TypeScript twin: match rate and memory per subscription', nodeOptions: ['--expose-gc'], short: ['--sizes', '10000,100000'] },
  { name: 'router-matchers', summary: 'TypeScript trie, native trie and native trie behind CachedMatcher on the fleet mix, with and without churn', short: ['--subscriptions', '50000'] },
  { name: 'retained-sync-cost', summary: 'cost per message of the synchronous retained path (the basis of --retained-bulk-threshold)', short: ['--sizes', '1000,20000'] },
  { name: 'login', summary: "the JavaScript of one MQTT login and close over an in-memory link (no sockets), in CPU microseconds: the connect rate's own-code part" },
  { name: 'security', summary: 'ACL decisions on the PUBLISH path (uncached and through the connection cache) and one password check (scrypt, PBKDF2)' },
  { name: 'store', summary: 'store throughput (memory and LMDB, 1, 100 and 1000 records per turn) and the value encoding of a queued record' },
];

/** The command line of micro-benchmark `name`, for its --help. */
export function microSpec(name: string, flags: readonly FlagDef[] = [], examples: readonly string[] = []): ToolSpec {
  const bench = MICRO_BENCHES.find((b) => b.name === name);
  if (bench === undefined) throw new Error(`${name} is not in MICRO_BENCHES (bench/micro/registry.ts)`);
  const node = ['node', ...(bench.nodeOptions ?? [])].join(' ');
  return {
    command: `${node} dist/bench/micro/${name}.bench.js`,
    about: [`Micro-benchmark: ${bench.summary}. The runner runs it with the others: node dist/bench/micro/main.js ${name}.`],
    flags,
    examples,
  };
}
