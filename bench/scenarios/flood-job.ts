/**
 * What flood.ts asks of a flood-worker process, as flags: the worker's flag table and how a job
 * becomes its command line, so the worker can also be run by hand.
 */
import type { FlagDef } from '../../src/config/flags.js';
import type { ToolSpec } from '../lib/tool-cli.js';

/** One load job: a connection storm or a publish flood against one port. */
export interface FloodJob {
  mode: 'storm' | 'publish';
  port: number;
  seconds: number;
  concurrency: number;
  /** MQTT version of the flooding clients (5 shows reason codes). */
  version: 4 | 5;
  payloadBytes: number;
  /** Publish flood: wait this long after a disconnect before connecting again. */
  reconnectDelayMs: number;
}

/** What the worker reports. */
export interface FloodResult {
  attempts: number;
  /** CONNACK reason (5.0) / return code (3.1.1) -> count; 'closed' / 'error' for none. */
  outcomes: Record<string, number>;
  publishes: number;
  /** DISCONNECT reasons the broker sent to flooding publishers. */
  disconnects: Record<string, number>;
}

const FLAGS: readonly FlagDef<keyof FloodJob>[] = [
  {
    group: 'Job',
    name: 'mode',
    key: 'mode',
    kind: 'enum',
    values: ['storm', 'publish'],
    default: 'storm',
    help: 'storm: connect, CONNECT, await CONNACK, close, again; publish: QoS 0 PUBLISH as fast as the socket takes them',
  },
  { group: 'Job', name: 'port', key: 'port', kind: 'int', default: 1883, min: 1, max: 65535, help: 'broker MQTT port on 127.0.0.1' },
  { group: 'Job', name: 'seconds', key: 'seconds', kind: 'int', default: 5, min: 1, max: 3600, valueName: 'SECONDS', help: 'how long the load runs' },
  { group: 'Job', name: 'concurrency', key: 'concurrency', kind: 'int', default: 64, min: 1, max: 10_000, help: 'connections looping at once' },
  {
    group: 'Job',
    name: 'version',
    key: 'version',
    kind: 'choice',
    default: 5,
    defaultText: '5',
    choices: [
      ['4', 4],
      ['5', 5],
    ],
    help: 'MQTT protocol level of the flooding clients (5 shows reason codes)',
  },
  { group: 'Job', name: 'payload-bytes', key: 'payloadBytes', kind: 'int', default: 64, min: 0, max: 1 << 20, valueName: 'BYTES', help: 'publish: payload size' },
  {
    group: 'Job',
    name: 'reconnect-delay',
    key: 'reconnectDelayMs',
    kind: 'int',
    default: 1000,
    min: 0,
    max: 60_000,
    valueName: 'MS',
    help: 'publish: wait after a disconnect before connecting again (MQTT.js waits 1 s)',
  },
];

/** The worker's command line. */
export const FLOOD_WORKER: ToolSpec = {
  command: 'node dist/bench/scenarios/flood-worker.js',
  about: [
    'The load process of flood.js: a connection storm or a publish flood against a broker on 127.0.0.1, then one JSON line of what came back (CONNACK codes, publishes written, DISCONNECT reasons). flood.js forks it at the lowest CPU priority and reads the result over IPC; run by hand it prints it.',
  ],
  flags: FLAGS,
  examples: ['node dist/bench/scenarios/flood-worker.js --mode storm --port 1883 --seconds 5'],
};

/** The worker's arguments for `job`. */
export function jobArgs(job: FloodJob): string[] {
  return FLAGS.flatMap((def) => [`--${def.name}`, String(job[def.key])]);
}
