/**
 * Flag tables: one row per flag drives parsing, validation, the config file and --help, for
 * every command that ships (`junction start`, `bench`, `fuzz`, the micro-benchmarks). Each area
 * of the code owns the rows of its own flags; a command concatenates the tables it needs.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';

/**
 * How a flag's text becomes a value. size = bytes, also as 512KiB, 1MiB, 1GiB, 10kB, 5MB;
 * port = a TCP port 0..65535 (0 = any free port) or "off" (PORT_OFF: the listener does not open);
 * enum = one of `values`; choice = one of the words of `choices`, each standing for a value.
 */
export type FlagKind = 'int' | 'size' | 'bool' | 'string' | 'enum' | 'choice' | 'path' | 'port';

/** The value of a 'port' flag that is off. */
export const PORT_OFF = -1;

/** A value a flag may hold. */
export type FlagValue = string | number | boolean | undefined;

/** One row of a flag table; `K` is the key of the option it sets. */
export interface FlagDef<K extends string = string> {
  /** Flag name without the leading dashes; also the config file key. */
  readonly name: string;
  readonly key: K;
  readonly kind: FlagKind;
  /** Heading it is listed under in --help. */
  readonly group: string;
  /** The default, or a function computing it at parse time (node name from the host name). */
  readonly default: FlagValue | (() => FlagValue);
  /** How --help shows the default when it is computed or absent. */
  readonly defaultText?: string;
  readonly min?: number;
  readonly max?: number;
  /** enum: the accepted words. */
  readonly values?: readonly string[];
  /** choice: the accepted words and the value each stands for. */
  readonly choices?: ReadonlyArray<readonly [string, string | number]>;
  /** Placeholder in --help (PORT, SECONDS); derived from kind when absent. */
  readonly valueName?: string;
  readonly help: string;
  /** False for flags that make no sense inside a config file (--config itself). */
  readonly inConfigFile?: boolean;
}

/** How a command reads its flags. */
export interface ParseSpec {
  /** The command, for messages: "junction start". */
  readonly command: string;
  /** Positional arguments allowed (e.g. a scenario name); none when absent. */
  readonly positional?: { readonly name: string; readonly values: readonly string[]; readonly max: number };
  /** The key of a flag naming a JSON config file whose keys are flag names. */
  readonly configKey?: string;
  /** Values from the environment, overridden by the command line (e.g. JUNCTION_NATIVE). */
  readonly env?: ReadonlyMap<string, { readonly value: string; readonly label: string }>;
}

/** What a command line held: every flag's value (defaults filled in) and the positional words. */
export interface Parsed<T> {
  readonly values: T;
  readonly positional: readonly string[];
}

/** The default of a flag, computing it when it depends on the machine. */
export function defaultOf(def: FlagDef): FlagValue {
  return typeof def.default === 'function' ? def.default() : def.default;
}

/**
 * Parses `argv` against `flags`. Precedence, lowest first: defaults, the config file, the
 * environment, the command line. Throws ConfigError naming the flag, the key or the argument.
 */
export function parseFlags<T>(flags: readonly FlagDef[], argv: readonly string[], spec: ParseSpec): Parsed<T> {
  const byName = new Map(flags.map((def) => [def.name, def]));
  const { given, positional } = parseArgs(flags, byName, argv, spec);
  const configName = spec.configKey === undefined ? undefined : flags.find((d) => d.key === spec.configKey)?.name;
  const configPath = configName === undefined ? undefined : given.get(spec.configKey!);
  const fromFile = typeof configPath === 'string' ? readConfigFile(flags, byName, configPath) : new Map<string, FlagValue>();
  const fromEnv = new Map<string, FlagValue>();
  for (const [key, { value, label }] of spec.env ?? []) {
    const def = flags.find((d) => d.key === key);
    if (def !== undefined && value !== '') fromEnv.set(key, convert(def, value, label));
  }
  const values: Record<string, FlagValue> = {};
  for (const def of flags) {
    const key = def.key;
    if (given.has(key)) values[key] = given.get(key);
    else if (fromEnv.has(key)) values[key] = fromEnv.get(key);
    else if (fromFile.has(key)) values[key] = fromFile.get(key);
    else values[key] = defaultOf(def);
  }
  // Every key of T has exactly one row and each row's converter yields that key's type.
  return { values: values as unknown as T, positional };
}

/** Command-line flags: --flag value, --flag=value, and for booleans --flag, --flag=false, --flag false, --no-flag. */
function parseArgs(flags: readonly FlagDef[], byName: ReadonlyMap<string, FlagDef>, argv: readonly string[], spec: ParseSpec): { given: Map<string, FlagValue>; positional: string[] } {
  const given = new Map<string, FlagValue>();
  const positional: string[] = [];
  let lastBareBool: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg.length > 1 && arg !== '--') {
        throw new ConfigError(`unknown flag ${arg}${suggestion(flags, arg.replace(/^-+/, '').split('=')[0]!, '--')}; flags start with --`);
      }
      const p = spec.positional;
      if (p !== undefined && positional.length < p.max && arg !== '--') {
        if (!p.values.includes(arg)) throw new ConfigError(`unknown ${p.name} "${arg}": one of ${p.values.join(', ')}`);
        positional.push(arg);
        continue;
      }
      const hint = lastBareBool === undefined ? '' : ` (to set --${lastBareBool} write --${lastBareBool}=${arg})`;
      throw new ConfigError(`unexpected argument "${arg}"${hint}; see ${spec.command} --help`);
    }
    lastBareBool = undefined;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    let def = byName.get(name);
    let negated = false;
    if (def === undefined && name.startsWith('no-')) {
      const positive = byName.get(name.slice(3));
      if (positive?.kind === 'bool') {
        def = positive;
        negated = true;
      }
    }
    if (def === undefined) throw new ConfigError(`unknown flag --${name}${suggestion(flags, name, '--') || `; see ${spec.command} --help`}`);
    const label = `--${def.name}`;
    let raw: string;
    if (def.kind === 'bool') {
      if (negated && inline !== undefined) throw new ConfigError(`--no-${def.name} takes no value (got "${inline}")`);
      raw = negated ? 'false' : (inline ?? 'true');
      // `--retain-available false`, as mosquitto users write it; only the words true/false, so that
      // a positional such as a client id named "on" is never taken for a flag's value.
      const next = argv[i + 1];
      if (!negated && inline === undefined && (next === 'true' || next === 'false')) {
        raw = next;
        i++;
      } else if (!negated && inline === undefined) lastBareBool = def.name;
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
  return { given, positional };
}

/** Reads a config file: a JSON object whose keys are flag names without dashes. */
function readConfigFile(flags: readonly FlagDef[], byName: ReadonlyMap<string, FlagDef>, path: string): Map<string, FlagValue> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path} (--config): ${(err as Error).message}`);
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
  const values = new Map<string, FlagValue>();
  const entries = data as Record<string, unknown>;
  for (const key of Object.keys(entries)) {
    const def = byName.get(key);
    if (def === undefined || def.inConfigFile === false) {
      const why = def === undefined ? `unknown key "${key}"` : `key "${key}" is not allowed`;
      throw new ConfigError(`${why} in config file ${path}${suggestion(flags, key, '"', def)}`);
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

/** What a flag accepts, in words: "an integer between 0 and 65535". */
export function describe(def: FlagDef): string {
  switch (def.kind) {
    case 'int':
      return def.valueName === 'SECONDS' ? `a number of seconds between ${def.min ?? 0} and ${def.max}` : `an integer between ${def.min ?? 0} and ${def.max}`;
    case 'size':
      return `a size between ${def.min ?? 0} and ${def.max} bytes`;
    case 'port':
      return 'a port between 0 and 65535 (0 = any free port) or off';
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${(def.values ?? []).join(', ')}`;
    case 'choice':
      return `one of ${(def.choices ?? []).map(([word]) => word).join(', ')}`;
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
    case 'choice':
      value = def.choices?.find(([word]) => word === raw)?.[1];
      return checked(value, def, raw, label);
    case 'path':
    case 'string':
      value = raw.trim() === '' ? undefined : raw;
      break;
  }
  if (typeof value === 'number') {
    const inRange = Number.isSafeInteger(value) && value >= (def.min ?? 0) && value <= (def.max ?? Number.MAX_SAFE_INTEGER);
    if (!inRange) value = undefined;
  }
  return checked(value, def, raw, label);
}

function checked(value: FlagValue, def: FlagDef, raw: string, label: string): FlagValue {
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
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
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
function suggestion(flags: readonly FlagDef[], name: string, quote: '--' | '"', exclude?: FlagDef): string {
  const wanted = normalise(name);
  let best: FlagDef | undefined;
  let bestDistance = Infinity;
  for (const def of flags) {
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
