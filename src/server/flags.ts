/** Flags of the running process: logs, the native module, worker threads, the node's name, the config file. */
import { hostname } from 'node:os';
import type { FlagDef } from '../config/flags.js';
import { LOG_THRESHOLDS, type LogThreshold } from '../log/logger.js';
import { NATIVE_MODES, type NativeMode } from '../native/binding.js';
import { SINGLE_CPU_GC_MODES, type SingleCpuGcMode } from './single-cpu-gc.js';

export interface RuntimeOptions {
  logLevel: LogThreshold;
  native: NativeMode;
  singleThreadedGc: SingleCpuGcMode;
  retainedWorkers: number;
  retainedBulkThreshold: number;
  nodeName: string;
  sysInterval: number;
  config: string | undefined;
}

/** Rows for --help, parsing and the config file. */
export const RUNTIME_FLAGS: readonly FlagDef<keyof RuntimeOptions>[] = [
  { name: 'log-level', key: 'logLevel', kind: 'enum', group: 'Runtime', default: 'info', values: LOG_THRESHOLDS, help: 'least severe log lines written (JSON lines on stdout)' },
  { name: 'native', key: 'native', kind: 'enum', group: 'Runtime', default: 'auto', values: NATIVE_MODES, help: 'use the Rust addon: auto = when it loads; also set by JUNCTION_NATIVE' },
  {
    name: 'single-threaded-gc',
    key: 'singleThreadedGc',
    kind: 'enum',
    group: 'Runtime',
    default: 'auto',
    values: SINGLE_CPU_GC_MODES,
    inConfigFile: false,
    help: "V8's garbage collector on the main thread only (node --single-threaded-gc): the process starts itself again with it, same process id; auto = when the process may use one CPU (taskset, a cpuset, one broker per core), where the collector's helper threads would take turns with the event loop",
  },
  {
    name: 'retained-workers',
    key: 'retainedWorkers',
    kind: 'int',
    group: 'Runtime',
    default: 2,
    min: 0,
    max: 64,
    valueName: 'THREADS',
    help: 'worker threads that read and encode big wildcard retained deliveries from the LMDB store; 0 = paced slices on the main thread',
  },
  {
    name: 'retained-bulk-threshold',
    key: 'retainedBulkThreshold',
    kind: 'int',
    group: 'Runtime',
    default: 5000,
    min: 0,
    max: 100_000_000,
    valueName: 'COUNT',
    help: 'retained messages from which a wildcard subscription is served in paced batches instead of in one go; 0 = always in one go',
  },
  {
    name: 'sys-interval',
    key: 'sysInterval',
    kind: 'int',
    group: 'Runtime',
    default: 10,
    min: 0,
    max: 86400,
    valueName: 'SECONDS',
    help: 'how often broker statistics (connections, messages, drops by cause) are published to $SYS/brokers/{node}/stats; 0 = never',
  },
  {
    name: 'node-name',
    key: 'nodeName',
    kind: 'string',
    group: 'Runtime',
    default: () => `junction@${hostname()}`,
    defaultText: 'junction@<hostname>',
    valueName: 'NAME',
    help: 'name of this node in logs, $SYS topics and the cluster (unique among the nodes of a --cluster)',
  },
  {
    name: 'config',
    key: 'config',
    kind: 'path',
    group: 'Runtime',
    default: undefined,
    defaultText: 'none',
    valueName: 'FILE',
    inConfigFile: false,
    help: 'JSON file of flags without dashes, e.g. {"mqtt-port": 1884}; flags given here override it',
  },
];
