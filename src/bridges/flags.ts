/** Flags of the bridges to backend message systems (Kafka, NATS JetStream, Redis Streams, HTTP). */
import type { FlagDef } from '../config/flags.js';

export interface BridgeOptions {
  /** JSON file of bridges and their forward and consume rules; undefined = no bridges */
  bridgeConfig: string | undefined;
  /** QoS 1/2 records one bridge's outbox holds while its backend is away; more are dropped (counted) */
  bridgeOutboxMax: number;
  /** QoS 0 records kept per bridge while sends are behind; more are dropped (counted) */
  bridgeQos0Buffer: number;
  /** longest wait in seconds between retries of a backend that does not answer */
  bridgeRetryMax: number;
  /** seconds between the per-bridge and per-rule counter lines in the log; 0 = only at shutdown */
  bridgeStatsInterval: number;
}

const GROUP = 'Bridges';

/** Rows for --help, parsing and the config file. */
export const BRIDGE_FLAGS: readonly FlagDef<keyof BridgeOptions>[] = [
  {
    name: 'bridge-config',
    key: 'bridgeConfig',
    kind: 'path',
    group: GROUP,
    default: undefined,
    defaultText: 'none',
    valueName: 'FILE',
    help: 'JSON file of bridges to Kafka, NATS JetStream, Redis Streams and HTTP (docs/BRIDGES.md)',
  },
  {
    name: 'bridge-outbox-max',
    key: 'bridgeOutboxMax',
    kind: 'int',
    group: GROUP,
    default: 1_000_000,
    min: 1,
    max: 100_000_000,
    help: 'QoS 1/2 messages one bridge buffers in its durable outbox while its backend is away; newer ones are dropped and counted',
  },
  {
    name: 'bridge-qos0-buffer',
    key: 'bridgeQos0Buffer',
    kind: 'int',
    group: GROUP,
    default: 10_000,
    min: 0,
    max: 10_000_000,
    help: 'messages a bridge may have waiting before it drops (and counts) QoS 0 messages instead of buffering them',
  },
  {
    name: 'bridge-retry-max',
    key: 'bridgeRetryMax',
    kind: 'int',
    group: GROUP,
    default: 10,
    min: 1,
    max: 3600,
    valueName: 'SECONDS',
    help: 'longest wait between retries of a backend that fails or does not answer',
  },
  {
    name: 'bridge-stats-interval',
    key: 'bridgeStatsInterval',
    kind: 'int',
    group: GROUP,
    default: 60,
    min: 0,
    max: 86_400,
    valueName: 'SECONDS',
    help: 'seconds between the log lines of per-bridge and per-rule counters; 0 = only at shutdown',
  },
];
