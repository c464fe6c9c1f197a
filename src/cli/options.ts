/**
 * Options of `junction start`. One table (START_FLAGS) drives parsing, validation, the config
 * file and --help (help.ts), so adding a flag is adding a row plus its key in StartOptions.
 * Precedence, lowest first: defaults, the --config file, JUNCTION_NATIVE, command-line flags.
 */

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { LogThreshold } from '../log/logger.js';
import { LOG_THRESHOLDS } from '../log/logger.js';
import { TRANSPORT_FLAGS, type TransportOptions } from './flags/transport.js';
import { SECURITY_FLAGS, type SecurityOptions } from './flags/security.js';
import { STOMP_FLAGS, type StompOptions } from './flags/stomp.js';
import { JT808_FLAGS, type Jt808Options } from './flags/jt808.js';
import { GBT32960_FLAGS, type Gbt32960Options } from './flags/gbt32960.js';

/** What --store accepts. */
export const STORE_KINDS = ['lmdb', 'memory'] as const;
/** What --native and JUNCTION_NATIVE accept. */
export const NATIVE_MODES = ['auto', 'on', 'off'] as const;

/** Which store keeps retained messages and sessions. */
export type StoreKind = (typeof STORE_KINDS)[number];
/** Whether the Rust addon is used: auto = when it loads. */
export type NativeMode = (typeof NATIVE_MODES)[number];

/**
 * Everything `junction start` needs; see START_FLAGS for meaning, ranges and defaults. Each
 * transport, security layer and gateway keeps its own flags in src/cli/flags/<area>.ts (an
 * interface part and its rows), so they grow without touching this file.
 */
export interface StartOptions extends TransportOptions, SecurityOptions, StompOptions, Jt808Options, Gbt32960Options {
  host: string;
  mqttPort: number;
  dataDir: string;
  store: StoreKind;
  maxConnections: number;
  /** 0 = unlimited */
  maxAcceptRate: number;
  listenBacklog: number;
  maxPacketSize: number;
  receiveMaximum: number;
  maxInflight: number;
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  maxSocketBuffer: number;
  maxSessionExpiry: number;
  maxRetainedMessages: number;
  maxKeepalive: number;
  connectTimeout: number;
  topicAliasMaximum: number;
  maxTopicLevels: number;
  logLevel: LogThreshold;
  allowAnonymous: boolean;
  native: NativeMode;
  retainedWorkers: number;
  retainedBulkThreshold: number;
  nodeName: string;
  sysInterval: number;
  config: string | undefined;
}

/** How a flag's text becomes a value. size = bytes, also as 512KiB, 1MiB, 1GiB, 10kB, 5MB. */
/** port = a TCP port 0..65535 (0 = any free port) or "off" (stored as -1: the listener does not open). */
export type FlagKind = 'int' | 'size' | 'bool' | 'string' | 'enum' | 'path' | 'port';

/** The value of a 'port' flag that is off. */
export const PORT_OFF = -1;

/** Headings of --help, in the order shown. */
export const FLAG_GROUPS = ['Network', 'WebSocket and TLS', 'Limits', 'Sessions and queues', 'Storage', 'Security', 'STOMP', 'JT/T 808', 'GB/T 32960', 'Runtime'] as const;
/** One heading of --help. */
export type FlagGroup = (typeof FLAG_GROUPS)[number];

/** A value a flag may hold. */
export type FlagValue = string | number | boolean | undefined;

/** One row of the flag table. */
export interface FlagDef {
  /** Flag name without the leading dashes; also the config file key. */
  readonly name: string;
  readonly key: keyof StartOptions;
  readonly kind: FlagKind;
  readonly group: FlagGroup;
  /** The default, or a function computing it at parse time (node name from the host name). */
  readonly default: FlagValue | (() => FlagValue);
  /** How --help shows the default when it is computed or absent. */
  readonly defaultText?: string;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  /** Placeholder in --help (PORT, SECONDS); derived from kind when absent. */
  readonly valueName?: string;
  readonly help: string;
  /** False for flags that make no sense inside the config file (--config itself). */
  readonly inConfigFile?: boolean;
}

/** The core flags of `junction start`, in --help order within each group. */
const CORE_FLAGS: readonly FlagDef[] = [
  // Network
  { name: 'host', key: 'host', kind: 'string', group: 'Network', default: '127.0.0.1', valueName: 'ADDRESS', help: 'address to listen on (0.0.0.0 or :: for all interfaces)' },
  { name: 'mqtt-port', key: 'mqttPort', kind: 'int', group: 'Network', default: 1883, min: 0, max: 65535, valueName: 'PORT', help: 'MQTT over TCP port; 0 = any free port' },
  { name: 'max-connections', key: 'maxConnections', kind: 'int', group: 'Network', default: 1_000_000, min: 1, max: 10_000_000, help: 'connections accepted at once; more are refused' },
  { name: 'max-accept-rate', key: 'maxAcceptRate', kind: 'int', group: 'Network', default: 0, defaultText: '0 (unlimited)', min: 0, max: 1_000_000, help: 'connections each TCP/TLS listener accepts per second; above it the listener stops accepting for a moment and new connections wait in the backlog' },
  { name: 'listen-backlog', key: 'listenBacklog', kind: 'int', group: 'Network', default: 4096, min: 1, max: 65535, help: 'connections the kernel queues for each TCP/TLS listener before accepting (capped by net.core.somaxconn)' },
  { name: 'connect-timeout', key: 'connectTimeout', kind: 'int', group: 'Network', default: 10, min: 1, max: 3600, valueName: 'SECONDS', help: 'time a new connection has to send CONNECT' },
  { name: 'max-keepalive', key: 'maxKeepalive', kind: 'int', group: 'Network', default: 65535, min: 1, max: 65535, valueName: 'SECONDS', help: 'highest keep-alive granted; longer requests are lowered (MQTT 5 Server Keep Alive)' },
  // Limits
  { name: 'max-packet-size', key: 'maxPacketSize', kind: 'size', group: 'Limits', default: 1_048_576, min: 64, max: 268_435_455, help: 'largest packet accepted, in bytes or as 512KiB, 1MiB' },
  { name: 'receive-maximum', key: 'receiveMaximum', kind: 'int', group: 'Limits', default: 64, min: 1, max: 65535, help: 'inbound QoS 1/2 messages a client may have unacknowledged (announced to MQTT 5 clients)' },
  { name: 'max-inflight', key: 'maxInflight', kind: 'int', group: 'Limits', default: 1024, min: 1, max: 65535, help: 'outbound QoS 1/2 messages unacknowledged per session, never above the client\'s Receive Maximum' },
  { name: 'max-socket-buffer', key: 'maxSocketBuffer', kind: 'size', group: 'Limits', default: 4 * 1_048_576, min: 65_536, max: 1_073_741_824, help: 'bytes waiting to be written to one slow client above which QoS 0 messages to it are dropped (and counted)' },
  { name: 'topic-alias-maximum', key: 'topicAliasMaximum', kind: 'int', group: 'Limits', default: 64, min: 0, max: 65535, help: 'topic aliases a client may use; 0 = none' },
  { name: 'max-topic-levels', key: 'maxTopicLevels', kind: 'int', group: 'Limits', default: 128, min: 1, max: 65535, help: 'most levels in a topic name or filter' },
  // Sessions and queues
  { name: 'max-session-expiry', key: 'maxSessionExpiry', kind: 'int', group: 'Sessions and queues', default: 604_800, min: 0, max: 4_294_967_295, valueName: 'SECONDS', help: 'longest session expiry granted; longer requests are lowered' },
  { name: 'max-queued-messages', key: 'maxQueuedMessages', kind: 'int', group: 'Sessions and queues', default: 1000, min: 0, max: 10_000_000, help: 'messages queued per offline or slow session; 0 = unlimited' },
  { name: 'max-queued-bytes', key: 'maxQueuedBytes', kind: 'size', group: 'Sessions and queues', default: 0, min: 0, max: Number.MAX_SAFE_INTEGER, help: 'payload bytes queued per session; 0 = unlimited' },
  { name: 'max-retained-messages', key: 'maxRetainedMessages', kind: 'int', group: 'Sessions and queues', default: 1_000_000, min: 0, max: 100_000_000, help: 'retained messages kept in all; 0 = unlimited (retain stays enabled)' },
  // Storage
  { name: 'data-dir', key: 'dataDir', kind: 'path', group: 'Storage', default: './data', valueName: 'DIR', help: 'directory of the LMDB store' },
  { name: 'store', key: 'store', kind: 'enum', group: 'Storage', default: 'lmdb', values: STORE_KINDS, help: 'where retained messages and sessions live; memory loses them on exit' },
  // Security
  { name: 'allow-anonymous', key: 'allowAnonymous', kind: 'bool', group: 'Security', default: false, help: 'accept clients without credentials (always allowed when listening on loopback only)' },
  // Runtime
  { name: 'log-level', key: 'logLevel', kind: 'enum', group: 'Runtime', default: 'info', values: LOG_THRESHOLDS, help: 'least severe log lines written (JSON lines on stdout)' },
  { name: 'native', key: 'native', kind: 'enum', group: 'Runtime', default: 'auto', values: NATIVE_MODES, help: 'use the Rust addon: auto = when it loads; also set by JUNCTION_NATIVE' },
  { name: 'retained-workers', key: 'retainedWorkers', kind: 'int', group: 'Runtime', default: 2, min: 0, max: 64, valueName: 'THREADS', help: 'worker threads that read and encode big wildcard retained deliveries from the LMDB store; 0 = paced slices on the main thread' },
  { name: 'retained-bulk-threshold', key: 'retainedBulkThreshold', kind: 'int', group: 'Runtime', default: 5000, min: 0, max: 100_000_000, valueName: 'COUNT', help: 'retained messages from which a wildcard subscription is served in paced batches instead of in one go; 0 = always in one go' },
  { name: 'sys-interval', key: 'sysInterval', kind: 'int', group: 'Runtime', default: 10, min: 0, max: 86400, valueName: 'SECONDS', help: 'how often broker statistics (connections, messages, drops by cause) are published to $SYS/brokers/{node}/stats; 0 = never' },
  { name: 'node-name', key: 'nodeName', kind: 'string', group: 'Runtime', default: () => `junction@${hostname()}`, defaultText: 'junction@<hostname>', valueName: 'NAME', help: 'name of this node in logs and, later, in a cluster' },
  { name: 'config', key: 'config', kind: 'path', group: 'Runtime', default: undefined, defaultText: 'none', valueName: 'FILE', inConfigFile: false, help: 'JSON file of flags without dashes, e.g. {"mqtt-port": 1884}; flags given here override it' },
];

/** Every flag of `junction start`: the core ones and each area's (src/cli/flags/). */
export const START_FLAGS: readonly FlagDef[] = [...CORE_FLAGS, ...TRANSPORT_FLAGS, ...SECURITY_FLAGS, ...STOMP_FLAGS, ...JT808_FLAGS, ...GBT32960_FLAGS];

const BY_NAME: ReadonlyMap<string, FlagDef> = new Map(START_FLAGS.map((def) => [def.name, def]));

/** The row for a flag name without dashes, or undefined. */
export function flagByName(name: string): FlagDef | undefined {
  return BY_NAME.get(name);
}

/** The default of a flag, computing it when it depends on the machine. */
export function defaultOf(def: FlagDef): FlagValue {
  return typeof def.default === 'function' ? def.default() : def.default;
}

/** Environment variables parseStartOptions reads (only JUNCTION_NATIVE for now). */
export type StartEnvironment = Readonly<Record<string, string | undefined>>;

/** Parses the arguments after `start` (plus --config and JUNCTION_NATIVE); throws ConfigError naming the flag. */
export function parseStartOptions(argv: readonly string[], env: StartEnvironment = process.env): StartOptions {
  const fromArgs = parseArgs(argv);
  const configPath = fromArgs.get('config');
  const fromFile = typeof configPath === 'string' ? readConfigFile(configPath) : new Map<keyof StartOptions, FlagValue>();
  const fromEnv = new Map<keyof StartOptions, FlagValue>();
  const envNative = env.JUNCTION_NATIVE;
  if (envNative !== undefined && envNative !== '') fromEnv.set('native', convert(flagByKey('native'), envNative, 'JUNCTION_NATIVE'));

  const options: Record<string, FlagValue> = {};
  for (const def of START_FLAGS) {
    const key = def.key;
    if (fromArgs.has(key)) options[key] = fromArgs.get(key);
    else if (fromEnv.has(key)) options[key] = fromEnv.get(key);
    else if (fromFile.has(key)) options[key] = fromFile.get(key);
    else options[key] = defaultOf(def);
  }
  // Every key of StartOptions has exactly one row and each row's converter yields that key's type.
  return options as unknown as StartOptions;
}

/** Command-line flags: --flag value, --flag=value, and for booleans --flag, --flag=false, --no-flag. */
function parseArgs(argv: readonly string[]): Map<keyof StartOptions, FlagValue> {
  const given = new Map<keyof StartOptions, FlagValue>();
  let lastBareBool: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg.length > 1 && arg !== '--') {
        throw new ConfigError(`unknown flag ${arg}${suggestion(arg.replace(/^-+/, '').split('=')[0]!, '--')}; flags start with --`);
      }
      const hint = lastBareBool === undefined ? '' : ` (to set --${lastBareBool} write --${lastBareBool}=${arg})`;
      throw new ConfigError(`unexpected argument "${arg}"${hint}; see junction start --help`);
    }
    lastBareBool = undefined;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    let def = BY_NAME.get(name);
    let negated = false;
    if (def === undefined && name.startsWith('no-')) {
      const positive = BY_NAME.get(name.slice(3));
      if (positive?.kind === 'bool') {
        def = positive;
        negated = true;
      }
    }
    if (def === undefined) throw new ConfigError(`unknown flag --${name}${suggestion(name, '--')}`);
    const label = `--${def.name}`;
    let raw: string;
    if (def.kind === 'bool') {
      if (negated && inline !== undefined) throw new ConfigError(`--no-${def.name} takes no value (got "${inline}")`);
      raw = negated ? 'false' : (inline ?? 'true');
      if (!negated && inline === undefined) lastBareBool = def.name;
    } else if (inline !== undefined) {
      raw = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new ConfigError(`${label} needs a value: ${describe(def)}`);
      }
      raw = next;
      i++;
    }
    given.set(def.key, convert(def, raw, label));
  }
  return given;
}

/** Reads a --config file: a JSON object whose keys are flag names without dashes. */
function readConfigFile(path: string): Map<keyof StartOptions, FlagValue> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`config file ${path} must hold a JSON object of flag names to values, e.g. {"mqtt-port": 1884}`);
  }
  const values = new Map<keyof StartOptions, FlagValue>();
  const entries = data as Record<string, unknown>;
  for (const key of Object.keys(entries)) {
    const def = BY_NAME.get(key);
    if (def === undefined || def.inConfigFile === false) {
      const why = def === undefined ? `unknown key "${key}"` : `key "${key}" is not allowed`;
      throw new ConfigError(`${why} in config file ${path}${suggestion(key, '"', def)}`);
    }
    const label = `"${key}" in config file ${path}`;
    const value = entries[key];
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ConfigError(`${label} must be ${describe(def)} (got ${JSON.stringify(value)})`);
    }
    let converted = convert(def, String(value), label);
    // A path in a config file means relative to that file, so the file works from any directory.
    if (def.kind === 'path' && typeof converted === 'string') converted = resolve(dirname(resolve(path)), converted);
    values.set(def.key, converted);
  }
  return values;
}

function flagByKey(key: keyof StartOptions): FlagDef {
  const def = START_FLAGS.find((row) => row.key === key);
  if (def === undefined) throw new Error(`no flag for option ${key}`);
  return def;
}

/** What a flag accepts, in words: "an integer between 0 and 65535". */
export function describe(def: FlagDef): string {
  switch (def.kind) {
    case 'int':
      return def.valueName === 'SECONDS'
        ? `a number of seconds between ${def.min} and ${def.max}`
        : `an integer between ${def.min} and ${def.max}`;
    case 'size':
      return `a size between ${def.min} and ${def.max} bytes`;
    case 'port':
      return 'a port between 0 and 65535 (0 = any free port) or off';
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${(def.values ?? []).join(', ')}`;
    case 'path':
      return 'a non-empty path';
    case 'string':
      return 'a non-empty string';
  }
}

/** Turns a flag's text into its value, or throws ConfigError naming `label`. */
function convert(def: FlagDef, raw: string, label: string): FlagValue {
  let value: FlagValue;
  switch (def.kind) {
    case 'int':
      value = /^[+-]?\d+$/.test(raw) ? Number(raw) : undefined;
      break;
    case 'port':
      value = raw === 'off' ? PORT_OFF : /^\d+$/.test(raw) && Number(raw) <= 65535 ? Number(raw) : undefined;
      if (value === PORT_OFF) return value;
      break;
    case 'size':
      value = parseSize(raw);
      break;
    case 'bool':
      value = parseBool(raw);
      break;
    case 'enum':
      value = def.values?.includes(raw) ? raw : undefined;
      break;
    case 'path':
    case 'string':
      value = raw.trim() === '' ? undefined : raw;
      break;
  }
  if (typeof value === 'number') {
    const inRange = Number.isSafeInteger(value) && value >= (def.min ?? 0) && value <= (def.max ?? Number.MAX_SAFE_INTEGER);
    if (!inRange) value = undefined;
  }
  if (value === undefined) throw new ConfigError(`${label} must be ${describe(def)} (got "${raw}")`);
  return value;
}

const SIZE_UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1],
  ['b', 1],
  ['kib', 1024],
  ['mib', 1024 ** 2],
  ['gib', 1024 ** 3],
  ['kb', 1000],
  ['mb', 1000 ** 2],
  ['gb', 1000 ** 3],
]);

/** Bytes from "1048576", "512KiB", "1MiB", "2GiB" (binary) or "10kB", "5MB" (decimal); undefined if not a size. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+)\s?([A-Za-z]*)$/.exec(text);
  if (match === null) return undefined;
  const unit = SIZE_UNITS.get(match[2]!.toLowerCase());
  if (unit === undefined) return undefined;
  const bytes = Number(match[1]) * unit;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Shortest exact binary form of a byte count: 1048576 -> "1MiB", 1000 -> "1000". */
export function formatSize(bytes: number): string {
  if (bytes === 0) return '0';
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

const TRUE_WORDS: ReadonlySet<string> = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', 'no', 'off', '0']);

function parseBool(text: string): boolean | undefined {
  const word = text.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

/** " (did you mean --mqtt-port?)" for the known flag closest to `name`, or "" when none is close. */
function suggestion(name: string, quote: '--' | '"', exclude?: FlagDef): string {
  const wanted = normalise(name);
  let best: FlagDef | undefined;
  let bestDistance = Infinity;
  for (const def of START_FLAGS) {
    if (def === exclude || (quote === '"' && def.inConfigFile === false)) continue;
    const distance = editDistance(wanted, normalise(def.name));
    if (distance < bestDistance) {
      best = def;
      bestDistance = distance;
    }
  }
  if (best === undefined || bestDistance > Math.max(2, Math.floor(wanted.length / 3))) return '';
  return quote === '--' ? ` (did you mean --${best.name}?)` : ` (did you mean "${best.name}"?)`;
}

/** Compares names regardless of case and separators, so mqttPort and mqtt_port find mqtt-port. */
function normalise(name: string): string {
  return name.replace(/^-+/, '').replace(/[-_]/g, '').toLowerCase();
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
