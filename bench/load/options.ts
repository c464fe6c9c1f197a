/**
 * Options of `junction bench`: one table (BENCH_FLAGS) read by the shared parser
 * (src/config/flags.ts) drives parsing, validation and --help, as START_FLAGS does for
 * `junction start`. The scenario is the one positional argument.
 */

import { availableParallelism } from 'node:os';
import { parseFlags, type FlagDef } from '../../src/config/flags.js';
import { flagList } from '../../src/config/help.js';
import { ConfigError } from '../../src/errors.js';
import { planCounts } from './plan.js';
import { localPortsNeeded, sourceAddressesOf, targetsOf } from './targets.js';

/** The load shapes `junction bench` can generate. */
const SCENARIOS = ['fanin', 'fanout', 'p2p', 'shared', 'conn', 'retained'] as const;
/** One load shape. */
export type Scenario = (typeof SCENARIOS)[number];
/** Transports the generator's clients speak. */
const BENCH_TRANSPORTS = ['tcp', 'tls', 'ws'] as const;
/** One transport. */
export type BenchTransport = (typeof BENCH_TRANSPORTS)[number];

/** Everything a run needs; counts left at 0 take the scenario's default (see plan.ts). */
export interface BenchOptions {
  scenario: Scenario;
  host: string;
  /** Comma-separated hosts clients are spread over round robin; undefined = host. */
  hosts: string | undefined;
  /** 0 = the transport's standard port (1883, 8883, 8083). */
  port: number;
  /** Comma-separated ports clients are spread over round robin (with every host); undefined = port. */
  ports: string | undefined;
  /** Port the subscribing clients connect to (another node of a cluster); 0 = port. */
  subscriberPort: number;
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
  /** conn: the one filter every idle connection subscribes to (one interest per node in a cluster). */
  subscribeTopic: string | undefined;
  /** A count N (127.0.0.1..N on loopback) or addresses and A-B ranges; see targets.ts. */
  sourceAddresses: string;
  /** First local port clients bind to explicitly (one per client and source address); 0 = the kernel picks. */
  localPortBase: number;
  keepalive: number;
  /** Session Expiry Interval of every client (MQTT 5), or clean session false (3.1.1) when > 0. */
  sessionExpiry: number;
  username: string | undefined;
  password: string | undefined;
  brokerPid: number;
  brokerGc: boolean;
  /** Seconds between the two GCs of a --broker-gc reading, for V8's memory reducer to shrink the young generation. */
  brokerSettle: number;
  json: string | undefined;
  progress: boolean;
}

const MAX_COUNT = 1_000_000;

/** Generator processes by default: every core but one, which is left to a local broker. */
function defaultProcs(): number {
  return Math.max(1, Math.min(8, availableParallelism() - 1));
}

/** The flags of `junction bench`, in --help order. */
export const BENCH_FLAGS: readonly FlagDef<Exclude<keyof BenchOptions, 'scenario'>>[] = [
  { group: 'Flags', name: 'host', key: 'host', kind: 'string', default: '127.0.0.1', valueName: 'ADDRESS', help: 'broker address' },
  {
    group: 'Flags',
    name: 'hosts',
    key: 'hosts',
    kind: 'string',
    default: undefined,
    defaultText: '--host',
    valueName: 'A,B,...',
    help: 'spread the clients round robin over these broker addresses (every one with every --ports port), e.g. the nodes of a cluster',
  },
  { group: 'Flags', name: 'port', key: 'port', kind: 'int', default: 0, defaultText: '1883 tcp, 8883 tls, 8083 ws', min: 0, max: 65535, help: 'broker port' },
  {
    group: 'Flags',
    name: 'ports',
    key: 'ports',
    kind: 'string',
    default: undefined,
    defaultText: '--port',
    valueName: 'P1,P2,...',
    help: "spread the clients round robin over these broker ports (the CPU and RSS sampled are those of the first port's process)",
  },
  {
    group: 'Flags',
    name: 'subscriber-port',
    key: 'subscriberPort',
    kind: 'int',
    default: 0,
    defaultText: '--port',
    min: 0,
    max: 65535,
    help: 'port the subscribing clients connect to (on their --hosts host), e.g. another node of a cluster for cross-node figures (publishers keep --port)',
  },
  {
    group: 'Flags',
    name: 'transport',
    key: 'transport',
    kind: 'choice',
    default: 'tcp',
    choices: BENCH_TRANSPORTS.map((t) => [t, t] as const),
    help: 'MQTT over TCP, TLS (certificate not verified) or WebSocket',
  },
  { group: 'Flags', name: 'ws-path', key: 'wsPath', kind: 'string', default: '/mqtt', valueName: 'PATH', help: 'WebSocket path (--transport ws)' },
  {
    group: 'Flags',
    name: 'protocol',
    key: 'protocol',
    kind: 'choice',
    default: 4,
    defaultText: '3.1.1',
    choices: [
      ['3.1.1', 4],
      ['5', 5],
      ['5.0', 5],
    ],
    help: 'MQTT version of every client',
  },
  { group: 'Flags', name: 'qos', key: 'qos', kind: 'int', default: 0, min: 0, max: 2, help: 'QoS of publishes and subscriptions' },
  {
    group: 'Flags',
    name: 'size',
    key: 'size',
    kind: 'int',
    default: 64,
    min: 0,
    max: 268_000_000,
    valueName: 'BYTES',
    help: 'payload size; the first 8 bytes carry the send time, so latency needs 8 or more',
  },
  {
    group: 'Flags',
    name: 'clients',
    key: 'clients',
    kind: 'int',
    default: 0,
    defaultText: 'per scenario',
    min: 0,
    max: MAX_COUNT,
    help: "the scenario's main count: fanin publishers, fanout subscribers, p2p pairs, shared publishers, conn connections, retained subscribers",
  },
  {
    group: 'Flags',
    name: 'publishers',
    key: 'publishers',
    kind: 'int',
    default: 0,
    defaultText: 'fanin 50, fanout 1, shared 10',
    min: 0,
    max: MAX_COUNT,
    help: 'publishing clients (fanin, fanout, shared)',
  },
  {
    group: 'Flags',
    name: 'subscribers',
    key: 'subscribers',
    kind: 'int',
    default: 0,
    defaultText: 'fanin 1, fanout 100, shared 10, retained 1',
    min: 0,
    max: MAX_COUNT,
    help: 'subscribing clients (fanin, fanout, shared, retained)',
  },
  { group: 'Flags', name: 'pairs', key: 'pairs', kind: 'int', default: 0, defaultText: '100', min: 0, max: MAX_COUNT, help: 'publisher/subscriber pairs (p2p)' },
  { group: 'Flags', name: 'connections', key: 'connections', kind: 'int', default: 0, defaultText: '1000', min: 0, max: MAX_COUNT, help: 'idle connections (conn)' },
  { group: 'Flags', name: 'retained-messages', key: 'retainedMessages', kind: 'int', default: 1000, min: 1, max: MAX_COUNT, help: 'retained messages the retained scenario stores and subscribes to' },
  {
    group: 'Flags',
    name: 'rate',
    key: 'rate',
    kind: 'int',
    default: 0,
    defaultText: 'unlimited',
    min: 0,
    max: 100_000_000,
    valueName: 'MSG/S',
    help: 'messages per second per publisher; 0 = as fast as the broker accepts',
  },
  { group: 'Flags', name: 'inflight', key: 'inflight', kind: 'int', default: 32, min: 1, max: 65535, help: 'unacknowledged QoS 1/2 messages per publisher' },
  { group: 'Flags', name: 'duration', key: 'duration', kind: 'int', default: 10, min: 1, max: 86_400, valueName: 'SECONDS', help: 'measured time (conn: how long the connections stay open)' },
  { group: 'Flags', name: 'warmup', key: 'warmup', kind: 'int', default: 1, min: 0, max: 3600, valueName: 'SECONDS', help: 'load before the measurement starts (not counted)' },
  {
    group: 'Flags',
    name: 'procs',
    key: 'procs',
    kind: 'int',
    default: defaultProcs(),
    defaultText: 'cores - 1, at most 8',
    min: 1,
    max: 256,
    help: 'generator worker processes; clients are spread over them',
  },
  {
    group: 'Flags',
    name: 'connect-rate',
    key: 'connectRate',
    kind: 'int',
    default: 0,
    defaultText: 'unlimited',
    min: 0,
    max: 10_000_000,
    valueName: 'CONN/S',
    help: 'new connections per second over all processes; 0 = as fast as answered',
  },
  {
    group: 'Flags',
    name: 'connect-concurrency',
    key: 'connectConcurrency',
    kind: 'int',
    default: 50,
    min: 1,
    max: 100_000,
    help: "connection handshakes in flight per process; keep the total under the broker's listen backlog (mosquitto: 100) or dropped SYNs add 1 s retries",
  },
  { group: 'Flags', name: 'subscribe', key: 'subscribe', kind: 'bool', default: false, help: 'conn: each idle connection also subscribes to its own topic' },
  {
    group: 'Flags',
    name: 'subscribe-topic',
    key: 'subscribeTopic',
    kind: 'string',
    default: undefined,
    defaultText: 'none',
    valueName: 'FILTER',
    help: 'conn: every idle connection subscribes to this one filter (QoS --qos); messages published to it while the connections are held are counted as received',
  },
  {
    group: 'Flags',
    name: 'source-addresses',
    key: 'sourceAddresses',
    kind: 'string',
    default: '16',
    valueName: 'N|A-B|A,B,...',
    help: 'local addresses the client sockets bind to, round robin (each has ~28k ephemeral ports): N = 127.0.0.1..N when every target is loopback, or addresses and ranges like 127.0.0.2-127.0.0.9',
  },
  {
    group: 'Flags',
    name: 'local-port-base',
    key: 'localPortBase',
    kind: 'int',
    default: 0,
    defaultText: 'the kernel picks',
    min: 0,
    max: 65535,
    valueName: 'PORT',
    help: 'bind each client to its own local port from PORT up (per source address): past ~50,000 connections binding to a source address with port 0 gets slow, as the kernel searches its range for each; keep the range clear of listeners',
  },
  { group: 'Flags', name: 'keepalive', key: 'keepalive', kind: 'int', default: 60, min: 0, max: 65535, valueName: 'SECONDS', help: 'keep-alive of every client; PINGREQ is sent at half of it' },
  {
    group: 'Flags',
    name: 'session-expiry',
    key: 'sessionExpiry',
    kind: 'int',
    default: 0,
    min: 0,
    max: 4294967295,
    valueName: 'SECONDS',
    help: 'persistent sessions: MQTT 5 clients start clean with this Session Expiry Interval, 3.1.1 clients connect with clean session off (their sessions stay until the broker expires them); 0 = clean sessions',
  },
  { group: 'Flags', name: 'username', key: 'username', kind: 'string', default: undefined, defaultText: 'none', valueName: 'NAME', help: 'user name of every client' },
  { group: 'Flags', name: 'password', key: 'password', kind: 'string', default: undefined, defaultText: 'none', valueName: 'SECRET', help: 'password of every client (never printed)' },
  {
    group: 'Flags',
    name: 'broker-pid',
    key: 'brokerPid',
    kind: 'int',
    default: 0,
    defaultText: 'found by port',
    min: 0,
    max: 4_194_304,
    valueName: 'PID',
    help: 'broker process whose CPU and RSS are sampled from /proc',
  },
  {
    group: 'Flags',
    name: 'broker-gc',
    key: 'brokerGc',
    kind: 'bool',
    default: false,
    help: 'before each broker RSS reading send SIGUSR2 (a Node broker started with --expose-gc collects garbage on it; Junction does) and wait 1 s: memory per connection after a full GC',
  },
  {
    group: 'Flags',
    name: 'broker-settle',
    key: 'brokerSettle',
    kind: 'int',
    default: 0,
    min: 0,
    max: 600,
    valueName: 'SECONDS',
    help: 'with --broker-gc: wait this long after the first SIGUSR2 and send another before reading RSS; V8 keeps the young generation a connection storm grew (and the one a fresh start grew) committed until its memory reducer runs, 10-20 s after a full GC, so 20 gives the settled memory of the held connections',
  },
  { group: 'Flags', name: 'json', key: 'json', kind: 'string', default: undefined, defaultText: 'none', valueName: 'FILE', help: 'also write the result as JSON to FILE (- = stdout)' },
  { group: 'Flags', name: 'progress', key: 'progress', kind: 'bool', default: true, help: 'print a progress line on stderr every second' },
];

/** Parses the arguments after `bench`; throws ConfigError naming the flag at fault. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values, positional } = parseFlags<Omit<BenchOptions, 'scenario'>>(BENCH_FLAGS, argv, {
    command: 'junction bench',
    positional: { name: 'scenario', values: SCENARIOS, max: 1 },
  });
  const scenario = positional[0] as Scenario | undefined;
  if (scenario === undefined) throw new ConfigError(`which scenario? junction bench <${SCENARIOS.join('|')}> [flags]`);
  // Refuse a bad list now, naming the flag, rather than in every worker.
  const targets = targetsOf(values);
  const sources = sourceAddressesOf(values.sourceAddresses, targets);
  const o: BenchOptions = { scenario, ...values };
  if (o.localPortBase > 0) {
    const c = planCounts(o);
    const top = o.localPortBase + localPortsNeeded(c.publishers + c.subscribers + c.idle + 1, targets.length, sources.length) - 1;
    if (top > 65535) throw new ConfigError(`--local-port-base ${o.localPortBase}: these clients need local ports up to ${top}, past 65535; give a lower base or more --source-addresses`);
  }
  if (values.subscribeTopic !== undefined && scenario !== 'conn') throw new ConfigError('--subscribe-topic applies to the conn scenario only');
  return o;
}

/** The `junction bench --help` page, generated from BENCH_FLAGS. */
export function benchHelp(): string {
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
    flagList(BENCH_FLAGS),
    'Example: junction bench fanin --publishers 50 --qos 1 --duration 10 --json fanin.json',
    '',
  ].join('\n');
}
