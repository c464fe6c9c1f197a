/**
 * The --bridge-config file: a JSON object {"bridges": [...]}, each bridge with a name, a type
 * (a backend module), its backend's keys, `forward` rules (MQTT filter to a backend target) and
 * `consume` rules (backend source to an MQTT topic template). Everything is checked at start:
 * an unknown key, a bad template or filter, a missing field is a ConfigError naming its place
 * (`bridges[0].forward[1].to`), so a typo never silently forwards nothing.
 */
import { readFileSync } from 'node:fs';
import { validateTopicName } from '../core/topic.js';
import { ConfigError } from '../errors.js';
import type { BackendModule, OptionReader } from './backend.js';
import { ForwardFilter } from './filter.js';
import { Template } from './template.js';

/** How a record's value relates to the MQTT payload. */
export type PayloadFormat = 'raw' | 'json';

export interface ForwardRule {
  readonly from: ForwardFilter;
  readonly to: Template;
  readonly key: Template | null;
  readonly payload: PayloadFormat;
  /** Backend target for records the backend refuses for good; null = count and log only. */
  readonly deadLetter: string | null;
}

export interface ConsumeRule {
  /** Kafka topic, JetStream subject, Redis stream key */
  readonly from: string;
  /** Kafka consumer group, JetStream durable consumer, Redis consumer group; default junction.BRIDGE.FROM, one per rule */
  readonly group: string;
  readonly to: Template;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly payload: PayloadFormat;
  /** Backend target for records Junction refuses (not authorized, bad topic); null = count and log only. */
  readonly deadLetter: string | null;
  /** The backend's own keys of this rule. */
  readonly options: OptionReader;
}

export interface BridgeConfig {
  readonly name: string;
  readonly type: string;
  readonly module: BackendModule;
  /** The backend's parsed options. */
  readonly options: unknown;
  /** The identity Junction's ACL and grants see for what this bridge publishes. */
  readonly username: string;
  readonly clientId: string;
  readonly batchSize: number;
  readonly forward: readonly ForwardRule[];
  readonly consume: readonly ConsumeRule[];
}

const BRIDGE_KEYS = ['name', 'type', 'username', 'clientId', 'batchSize', 'forward', 'consume'];
const FORWARD_KEYS = ['from', 'to', 'key', 'payload', 'deadLetter'];
const CONSUME_KEYS = ['from', 'group', 'to', 'qos', 'retain', 'payload', 'deadLetter'];
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

type Json = Record<string, unknown>;

/** Reads and checks the bridge configuration file; throws ConfigError naming the file and the place. */
export function loadBridgeConfig(file: string, modules: ReadonlyMap<string, BackendModule>): BridgeConfig[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--bridge-config: cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`--bridge-config: ${file} is not JSON: ${(err as Error).message}`);
  }
  try {
    return parseBridgeConfig(json, modules);
  } catch (err) {
    throw new ConfigError(`--bridge-config ${file}: ${(err as Error).message}`);
  }
}

/** Checks a parsed configuration; throws an Error naming the place. */
export function parseBridgeConfig(json: unknown, modules: ReadonlyMap<string, BackendModule>): BridgeConfig[] {
  const root = object(json, 'the file');
  onlyKeys(root, ['bridges'], 'the file');
  if (!Array.isArray(root['bridges'])) throw new Error('"bridges" must be an array of bridges');
  const names = new Set<string>();
  return root['bridges'].map((raw: unknown, i: number) => {
    const where = `bridges[${i}]`;
    const b = object(raw, where);
    const type = b['type'];
    const module = typeof type === 'string' ? modules.get(type) : undefined;
    if (module === undefined) throw new Error(`${where}.type must be one of ${[...modules.keys()].join(', ')} (got ${JSON.stringify(type)})`);
    onlyKeys(b, [...BRIDGE_KEYS, ...module.bridgeKeys], `${where} (a ${type} bridge)`);
    const read = reader(b, where);
    const name = read.string('name');
    if (!NAME.test(name)) throw new Error(`${where}.name "${name}" must be 1-64 letters, digits, '_', '.' or '-'`);
    if (names.has(name)) throw new Error(`${where}.name "${name}" is used by another bridge`);
    names.add(name);
    const forward = list(b['forward'], `${where}.forward`).map((r, j) => forwardRule(r, `${where}.forward[${j}]`));
    const consumeRaw = list(b['consume'], `${where}.consume`);
    if (consumeRaw.length > 0 && !module.consumes) throw new Error(`${where}.consume: a ${type} bridge only forwards`);
    const consume = consumeRaw.map((r, j) => consumeRule(r, `${where}.consume[${j}]`, module, name));
    const groups = new Set<string>();
    consume.forEach((rule, j) => {
      if (groups.has(rule.group)) throw new Error(`${where}.consume[${j}].group "${rule.group}" is used by another consume rule of this bridge; give each rule its own group`);
      groups.add(rule.group);
    });
    if (forward.length === 0 && consume.length === 0) throw new Error(`${where} ("${name}") has neither forward nor consume rules`);
    return {
      name,
      type: type as string,
      module,
      options: module.parse(read),
      username: read.string('username', name),
      clientId: read.string('clientId', `bridge-${name}`),
      batchSize: read.int('batchSize', 1, 10_000, 500),
      forward,
      consume,
    };
  });
}

function forwardRule(raw: unknown, where: string): ForwardRule {
  const r = object(raw, where);
  onlyKeys(r, FORWARD_KEYS, where);
  const read = reader(r, where);
  const key = read.optionalString('key');
  return {
    from: at(where, 'from', () => new ForwardFilter(read.string('from'))),
    to: at(where, 'to', () => Template.compile(read.string('to'), 'forward')),
    key: key === undefined ? null : at(where, 'key', () => Template.compile(key, 'forward')),
    payload: payloadFormat(r['payload'], `${where}.payload`),
    deadLetter: read.optionalString('deadLetter') ?? null,
  };
}

function consumeRule(raw: unknown, where: string, module: BackendModule, bridge: string): ConsumeRule {
  const r = object(raw, where);
  onlyKeys(r, [...CONSUME_KEYS, ...module.consumeKeys], where);
  const read = reader(r, where);
  const to = at(where, 'to', () => Template.compile(read.string('to'), 'consume'));
  if (to.constant) {
    const problem = validateTopicName(to.source);
    if (problem !== null) throw new Error(`${where}.to: "${to.source}" is not a topic name: ${problem}`);
  }
  const from = read.string('from');
  return {
    from,
    group: read.string('group', `junction.${bridge}.${from}`),
    to,
    qos: read.int('qos', 0, 2, 1) as 0 | 1 | 2,
    retain: read.bool('retain', false),
    payload: payloadFormat(r['payload'], `${where}.payload`),
    deadLetter: read.optionalString('deadLetter') ?? null,
    options: read,
  };
}

function payloadFormat(value: unknown, where: string): PayloadFormat {
  if (value === undefined || value === 'raw') return 'raw';
  if (value === 'json') return 'json';
  throw new Error(`${where} must be "raw" (the bytes as published) or "json" (an envelope with metadata); got ${JSON.stringify(value)}`);
}

/** Runs `make`, prefixing its error with the field it reads. */
function at<T>(where: string, key: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    const message = (err as Error).message;
    throw new Error(message.startsWith(where) ? message : `${where}.${key}: ${message}`);
  }
}

function object(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} must be a JSON object`);
  return value as Json;
}

function list(value: unknown, where: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${where} must be an array`);
  return value;
}

function onlyKeys(o: Json, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw new Error(`${where}: unknown key "${key}" (known: ${allowed.join(', ')})`);
  }
}

/** Typed access to an object's keys, with errors naming `where.key`. */
export function reader(o: Json, where: string): OptionReader {
  return {
    where,
    string(key, fallback) {
      const v = o[key];
      if (v === undefined && fallback !== undefined) return fallback;
      if (typeof v !== 'string' || v === '') throw new Error(`${where}.${key} must be a non-empty string`);
      return v;
    },
    optionalString(key) {
      const v = o[key];
      if (v === undefined) return undefined;
      if (typeof v !== 'string' || v === '') throw new Error(`${where}.${key} must be a non-empty string`);
      return v;
    },
    strings(key, fallback) {
      const v = o[key];
      if (v === undefined && fallback !== undefined) return [...fallback];
      if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && s !== '')) throw new Error(`${where}.${key} must be a non-empty array of strings`);
      return v as string[];
    },
    bool(key, fallback) {
      const v = o[key];
      if (v === undefined) return fallback;
      if (typeof v !== 'boolean') throw new Error(`${where}.${key} must be true or false`);
      return v;
    },
    int(key, min, max, fallback) {
      const v = o[key];
      if (v === undefined) return fallback;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new Error(`${where}.${key} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
      return v;
    },
  };
}
