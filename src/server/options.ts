/**
 * Options of `junction start`: every area's flag rows in one table (START_FLAGS) that drives
 * parsing, validation, the config file and --help. Each area owns its rows and its typed part of
 * StartOptions (a protocol in src/protocols/<name>/flags.ts); this file only assembles them.
 * Precedence, lowest first: defaults, the --config file, JUNCTION_NATIVE, command-line flags.
 */
import { parseFlags, type FlagDef } from '../config/flags.js';
import { ADMIN_FLAGS, type AdminOptions } from '../admin/flags.js';
import { BRIDGE_FLAGS, type BridgeOptions } from '../bridges/flags.js';
import { CLUSTER_FLAGS, type ClusterOptions } from '../cluster/flags.js';
import { CORE_FLAGS, type CoreOptions } from '../core/flags.js';
import { GATEWAY_FLAGS, type GatewayOptions } from '../gateway/flags.js';
import { GBT32960_FLAGS, type Gbt32960Options } from '../protocols/gbt32960/flags.js';
import { JT808_FLAGS, type Jt808Options } from '../protocols/jt808/flags.js';
import { MQTT_FLAGS, type MqttOptions } from '../protocols/mqtt/flags.js';
import { STOMP_FLAGS, type StompOptions } from '../protocols/stomp/flags.js';
import { SECURITY_FLAGS, type SecurityOptions } from '../security/flags.js';
import { STORE_FLAGS, type StoreOptions } from '../store/flags.js';
import { TRANSPORT_FLAGS, type TransportOptions } from '../transports/flags.js';
import { RUNTIME_FLAGS, type RuntimeOptions } from './flags.js';

/** Everything `junction start` needs; see START_FLAGS for meaning, ranges and defaults. */
export interface StartOptions
  extends GatewayOptions,
    AdminOptions,
    CoreOptions,
    StoreOptions,
    TransportOptions,
    SecurityOptions,
    RuntimeOptions,
    MqttOptions,
    StompOptions,
    Jt808Options,
    Gbt32960Options,
    BridgeOptions,
    ClusterOptions {}

/** Headings of --help, in the order shown. */
export const FLAG_GROUPS = [
  'Network',
  'WebSocket and TLS',
  'Limits',
  'Sessions and queues',
  'Storage',
  'Security',
  'STOMP',
  'JT/T 808',
  'GB/T 32960',
  'Bridges',
  'Cluster',
  'Administration',
  'Runtime',
] as const;

/** Every flag of `junction start`. */
export const START_FLAGS: readonly FlagDef<keyof StartOptions>[] = [
  ...GATEWAY_FLAGS,
  ...MQTT_FLAGS,
  ...CORE_FLAGS,
  ...STORE_FLAGS,
  ...TRANSPORT_FLAGS,
  ...SECURITY_FLAGS,
  ...STOMP_FLAGS,
  ...JT808_FLAGS,
  ...GBT32960_FLAGS,
  ...ADMIN_FLAGS,
  ...BRIDGE_FLAGS,
  ...CLUSTER_FLAGS,
  ...RUNTIME_FLAGS,
];

/** Environment variables parseStartOptions reads (only JUNCTION_NATIVE for now). */
export type StartEnvironment = Readonly<Record<string, string | undefined>>;

/** Parses the arguments after `start` (plus --config and JUNCTION_NATIVE); throws ConfigError naming the flag. */
export function parseStartOptions(argv: readonly string[], env: StartEnvironment = process.env): StartOptions {
  const native = env.JUNCTION_NATIVE;
  const fromEnv = new Map(native === undefined ? [] : [['native', { value: native, label: 'JUNCTION_NATIVE' }] as const]);
  return parseFlags<StartOptions>(START_FLAGS, argv, { command: 'junction start', configKey: 'config', env: fromEnv }).values;
}
