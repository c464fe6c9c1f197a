/**
 * Options of `junction bench`: one table (BENCH_FLAGS) drives parsing, validation and --help,
 * as START_FLAGS does for `junction start`. The scenario is the one positional argument.
 */

import { availableParallelism } from 'node:os';
import { ConfigError } from '../errors.js';

/** The load shapes `junction bench` can generate. */
export const SCENARIOS = ['fanin', 'fanout', 'p2p', 'shared', 'conn', 'retained'] as const;
/** One load shape. */
export type Scenario = (typeof SCENARIOS)[number];
/** Transports the generator's clients speak. */
export const BENCH_TRANSPORTS = ['tcp', 'tls', 'ws'] as const;
/** One transport. */
export type BenchTransport = (typeof BENCH_TRANSPORTS)[number];

/** Everything a run needs; counts left at 0 take the scenario's default (see plan.ts). */
export interface BenchOptions {
  scenario: Scenario;
  host: string;
  /** 0 = the transport's standard port (1883, 8883, 8083). */
  port: number;
  transport: BenchTransport;
  wsPath: string;
  /** MQTT protocol level: 4 (3.1.1) or 5. */
  protocol: 4 | 5;
  qos: 0 | 1 | 2;
  size: number;
  clients: number;
  publishers: number;
  subscribers: number;
  pairs: number;
  connections: number;
  retainedMessages: number;
  /** Messages per second per publishing client; 0 = as fast as the broker takes them. */
  rate: number;
  inflight: number;
  duration: number;
  warmup: number;
  procs: number;
  connectRate: number;
  connectConcurrency: number;
  subscribe: boolean;
  sourceAddresses: number;
  keepalive: number;
  username: string | undefined;
  password: string | undefined;
  brokerPid: number;
  brokerGc: boolean;
  json: string | undefined;
  progress: boolean;
}

type BenchKey = Exclude<keyof BenchOptions, 'scenario'>;
type BenchValue = string | number | boolean | undefined;

/** One row of the bench flag table. */
interface BenchFlag {
  readonly name: string;
  readonly key: BenchKey;
  readonly kind: 'int' | 'string' | 'bool' | 'choice';
  readonly default: BenchValue;
  readonly defaultText?: string;
  readonly min?: number;
  readonly max?: number;
  /** For 'choice': the accepted words and the value each stands for. */
  readonly choices?: ReadonlyArray<readonly [string, string | number]>;
  readonly valueName?: string;
  readonly help: string;
}

const MAX_COUNT = 1_000_000;

/** Generator processes by default: every core but one, which is left to a local broker. */
function defaultProcs(): number {
  return Math.max(1, Math.min(8, availableParallelism() - 1));
}

/** The flags of `junction bench`, in --help order. */
export const BENCH_FLAGS: readonly BenchFlag[] = [
  { name: 'host', key: 'host', kind: 'string', default: '127.0.0.1', valueName: 'ADDRESS', help: 'broker address' },
  { name: 'port', key: 'port', kind: 'int', default: 0, defaultText: '1883 tcp, 8883 tls, 8083 ws', min: 0, max: 65535, help: 'broker port' },
  { name: 'transport', key: 'transport', kind: 'choice', default: 'tcp', choices: BENCH_TRANSPORTS.map((t) => [t, t] as const), help: 'MQTT over TCP, TLS (certificate not verified) or WebSocket' },
  { name: 'ws-path', key: 'wsPath', kind: 'string', default: '/mqtt', valueName: 'PATH', help: 'WebSocket path (--transport ws)' },
  { name: 'protocol', key: 'protocol', kind: 'choice', default: 4, defaultText: '3.1.1', choices: [['3.1.1', 4], ['5', 5], ['5.0', 5]], help: 'MQTT version of every client' },
  { name: 'qos', key: 'qos', kind: 'int', default: 0, min: 0, max: 2, help: 'QoS of publishes and subscriptions' },
  { name: 'size', key: 'size', kind: 'int', default: 64, min: 0, max: 268_000_000, valueName: 'BYTES', help: 'payload size; the first 8 bytes carry the send time, so latency needs 8 or more' },
  { name: 'clients', key: 'clients', kind: 'int', default: 0, defaultText: 'per scenario', min: 0, max: MAX_COUNT, help: 'the scenario\'s main count: fanin publishers, fanout subscribers, p2p pairs, shared publishers, conn connections, retained subscribers' },
  { name: 'publishers', key: 'publishers', kind: 'int', default: 0, defaultText: 'fanin 50, fanout 1, shared 10', min: 0, max: MAX_COUNT, help: 'publishing clients (fanin, fanout, shared)' },
  { name: 'subscribers', key: 'subscribers', kind: 'int', default: 0, defaultText: 'fanin 1, fanout 100, shared 10, retained 1', min: 0, max: MAX_COUNT, help: 'subscribing clients (fanin, fanout, shared, retained)' },
  { name: 'pairs', key: 'pairs', kind: 'int', default: 0, defaultText: '100', min: 0, max: MAX_COUNT, help: 'publisher/subscriber pairs (p2p)' },
  { name: 'connections', key: 'connections', kind: 'int', default: 0, defaultText: '1000', min: 0, max: MAX_COUNT, help: 'idle connections (conn)' },
  { name: 'retained-messages', key: 'retainedMessages', kind: 'int', default: 1000, min: 1, max: MAX_COUNT, help: 'retained messages the retained scenario stores and subscribes to' },
  { name: 'rate', key: 'rate', kind: 'int', default: 0, defaultText: 'unlimited', min: 0, max: 100_000_000, valueName: 'MSG/S', help: 'messages per second per publisher; 0 = as fast as the broker accepts' },
  { name: 'inflight', key: 'inflight', kind: 'int', default: 32, min: 1, max: 65535, help: 'unacknowledged QoS 1/2 messages per publisher' },
  { name: 'duration', key: 'duration', kind: 'int', default: 10, min: 1, max: 86_400, valueName: 'SECONDS', help: 'measured time (conn: how long the connections stay open)' },
  { name: 'warmup', key: 'warmup', kind: 'int', default: 1, min: 0, max: 3600, valueName: 'SECONDS', help: 'load before the measurement starts (not counted)' },
  { name: 'procs', key: 'procs', kind: 'int', default: defaultProcs(), defaultText: 'cores - 1, at most 8', min: 1, max: 256, help: 'generator worker processes; clients are spread over them' },
  { name: 'connect-rate', key: 'connectRate', kind: 'int', default: 0, defaultText: 'unlimited', min: 0, max: 10_000_000, valueName: 'CONN/S', help: 'new connections per second over all processes; 0 = as fast as answered' },
  { name: 'connect-concurrency', key: 'connectConcurrency', kind: 'int', default: 50, min: 1, max: 100_000, help: 'connection handshakes in flight per process; keep the total under the broker\'s listen backlog (mosquitto: 100) or dropped SYNs add 1 s retries' },
  { name: 'subscribe', key: 'subscribe', kind: 'bool', default: false, help: 'conn: each idle connection also subscribes to its own topic' },
  { name: 'source-addresses', key: 'sourceAddresses', kind: 'int', default: 16, min: 1, max: 254, help: 'spread connections over 127.0.0.1..N as source address (loopback hosts only) so ephemeral ports do not run out' },
  { name: 'keepalive', key: 'keepalive', kind: 'int', default: 60, min: 0, max: 65535, valueName: 'SECONDS', help: 'keep-alive of every client; PINGREQ is sent at half of it' },
  { name: 'username', key: 'username', kind: 'string', default: undefined, defaultText: 'none', valueName: 'NAME', help: 'user name of every client' },
  { name: 'password', key: 'password', kind: 'string', default: undefined, defaultText: 'none', valueName: 'SECRET', help: 'password of every client (never printed)' },
  { name: 'broker-pid', key: 'brokerPid', kind: 'int', default: 0, defaultText: 'found by port', min: 0, max: 4_194_304, valueName: 'PID', help: 'broker process whose CPU and RSS are sampled from /proc' },
  { name: 'broker-gc', key: 'brokerGc', kind: 'bool', default: false, help: 'before each broker RSS reading send SIGUSR2 (a Node broker started with --expose-gc collects garbage on it; Junction does) and wait 1 s: memory per connection after a full GC' },
  { name: 'json', key: 'json', kind: 'string', default: undefined, defaultText: 'none', valueName: 'FILE', help: 'also write the result as JSON to FILE (- = stdout)' },
  { name: 'progress', key: 'progress', kind: 'bool', default: true, help: 'print a progress line on stderr every second' },
];

const BY_NAME: ReadonlyMap<string, BenchFlag> = new Map(BENCH_FLAGS.map((flag) => [flag.name, flag]));

/** Parses the arguments after `bench`; throws ConfigError naming the flag at fault. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let scenario: Scenario | undefined;
  const values = new Map<BenchKey, BenchValue>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      if (scenario !== undefined || arg.startsWith('-')) throw new ConfigError(`unexpected argument "${arg}"; see junction bench --help`);
      if (!(SCENARIOS as readonly string[]).includes(arg)) throw new ConfigError(`unknown scenario "${arg}": one of ${SCENARIOS.join(', ')}`);
      scenario = arg as Scenario;
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    let negated = false;
    if (!BY_NAME.has(name) && name.startsWith('no-') && BY_NAME.get(name.slice(3))?.kind === 'bool') {
      name = name.slice(3);
      negated = true;
    }
    const flag = BY_NAME.get(name);
    if (flag === undefined) throw new ConfigError(`unknown flag --${name}; see junction bench --help`);
    let raw: string;
    if (flag.kind === 'bool') {
      raw = negated ? 'false' : (inline ?? 'true');
    } else if (inline !== undefined) {
      raw = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new ConfigError(`--${flag.name} needs a value: ${describe(flag)}`);
      raw = next;
      i++;
    }
    values.set(flag.key, convert(flag, raw));
  }
  if (scenario === undefined) throw new ConfigError(`which scenario? junction bench <${SCENARIOS.join('|')}> [flags]`);
  const options: Record<string, BenchValue> = { scenario };
  for (const flag of BENCH_FLAGS) options[flag.key] = values.has(flag.key) ? values.get(flag.key) : flag.default;
  // Each row's converter yields the type its key has in BenchOptions.
  return options as unknown as BenchOptions;
}

function describe(flag: BenchFlag): string {
  switch (flag.kind) {
    case 'int':
      return `an integer between ${flag.min ?? 0} and ${flag.max ?? Number.MAX_SAFE_INTEGER}`;
    case 'bool':
      return 'true or false';
    case 'choice':
      return `one of ${(flag.choices ?? []).map(([word]) => word).join(', ')}`;
    case 'string':
      return 'a non-empty string';
  }
}

function convert(flag: BenchFlag, raw: string): BenchValue {
  let value: BenchValue;
  switch (flag.kind) {
    case 'int': {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
      value = Number.isSafeInteger(n) && n >= (flag.min ?? 0) && n <= (flag.max ?? Number.MAX_SAFE_INTEGER) ? n : undefined;
      break;
    }
    case 'bool':
      value = ['true', 'yes', 'on', '1'].includes(raw) ? true : ['false', 'no', 'off', '0'].includes(raw) ? false : undefined;
      break;
    case 'choice':
      value = flag.choices?.find(([word]) => word === raw)?.[1];
      break;
    case 'string':
      value = raw === '' ? undefined : raw;
      break;
  }
  if (value === undefined) throw new ConfigError(`--${flag.name} must be ${describe(flag)} (got "${raw}")`);
  return value;
}

/** The `junction bench --help` page, generated from BENCH_FLAGS. */
export function benchHelp(): string {
  const rows = BENCH_FLAGS.map((flag) => {
    const value = flag.kind === 'bool' ? '' : ` ${flag.valueName ?? (flag.kind === 'choice' ? (flag.choices ?? []).map(([w]) => w).join('|') : 'N')}`;
    const left = `  --${flag.kind === 'bool' ? '[no-]' : ''}${flag.name}${value}`;
    const shown = flag.defaultText ?? String(flag.default);
    return `${left.padEnd(34)}${flag.help} (default ${shown})`;
  });
  return [
    `Usage: junction bench <${SCENARIOS.join('|')}> [flags]`,
    '',
    'Generates MQTT load against a running broker and reports throughput, latency (p50, p99,',
    'p99.9, max from a send time carried in each payload), connections, errors and the CPU of',
    'the generator and of the broker (read from /proc when the broker runs on this machine).',
    '',
    'Scenarios:',
    '  fanin     P publishers -> 1 subscriber on a wildcard filter',
    '  fanout    1 publisher -> S subscribers of the same topic',
    '  p2p       N pairs, each publisher to its own subscriber',
    '  shared    P publishers -> S subscribers of one $share group',
    '  conn      C idle connections (optionally a subscription each), opened at --connect-rate',
    '  retained  S subscribers repeatedly subscribe to a filter over N retained messages',
    '',
    'Flags:',
    ...rows,
    '',
    'Example: junction bench fanin --publishers 50 --qos 1 --duration 10 --json fanin.json',
    '',
  ].join('\n');
}
