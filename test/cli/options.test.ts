import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError } from '../../src/errors.js';
import { helpText, startHelp } from '../../src/cli/help.js';
import type { FlagDef } from '../../src/config/flags.js';
import type { StartOptions } from '../../src/server/options.js';
import { defaultOf, formatSize, parseSize } from '../../src/config/flags.js';
import { START_FLAGS, parseStartOptions } from '../../src/server/options.js';

const NO_ENV = {};
const parse = (argv: string[], env: Record<string, string> = NO_ENV): StartOptions => parseStartOptions(argv, env);

/** Asserts parse throws a ConfigError whose message contains every fragment. */
function rejects(argv: string[], fragments: string[], env: Record<string, string> = NO_ENV): void {
  assert.throws(
    () => parse(argv, env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      for (const fragment of fragments) assert.ok(err.message.includes(fragment), `"${err.message}" lacks "${fragment}"`);
      return true;
    },
  );
}

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'junction-options-'));
  const path = join(dir, 'junction.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

test('every core option has its documented default', () => {
  const parsed = parse([]) as unknown as Record<string, unknown>;
  const expected: Record<string, unknown> = {
    host: '127.0.0.1',
    mqttPort: 1883,
    dataDir: './data',
    store: 'lmdb',
    maxConnections: 1_000_000,
    maxPacketSize: 1_048_576,
    receiveMaximum: 64,
    maxInflight: 1024,
    maxQueuedMessages: 1000,
    maxQueuedBytes: 0,
    maxSessionExpiry: 604_800,
    maxRetainedMessages: 1_000_000,
    maxKeepalive: 65535,
    connectTimeout: 10,
    topicAliasMaximum: 64,
    maxTopicLevels: 128,
    maximumQos: 2,
    retainAvailable: true,
    allowIdentityTakeover: false,
    jwtRequireExp: true,
    deviceSignatureWindow: 300,
    logLevel: 'info',
    // Not given: the loopback default decides (src/security/index.ts).
    allowAnonymous: undefined,
    native: 'auto',
    nodeName: `junction@${hostname()}`,
    config: undefined,
    maxSocketBuffer: 4 * 1_048_576,
    sysInterval: 10,
  };
  // Each area (transports, security, gateways) tests its own flags' defaults.
  const core = Object.fromEntries(Object.keys(expected).map((key) => [key, parsed[key]]));
  assert.deepEqual(core, expected);
});

test('the flag table has one row per option key and unique names', () => {
  const keys = START_FLAGS.map((def) => def.key).sort();
  assert.deepEqual(keys, Object.keys(parse([])).sort());
  assert.equal(new Set(START_FLAGS.map((def) => def.name)).size, START_FLAGS.length);
});

test('--flag value and --flag=value give the same result', () => {
  assert.equal(parse(['--mqtt-port', '1884']).mqttPort, 1884);
  assert.equal(parse(['--mqtt-port=1884']).mqttPort, 1884);
  assert.equal(parse(['--host', '0.0.0.0']).host, '0.0.0.0');
  assert.equal(parse(['--node-name=a=b']).nodeName, 'a=b');
  assert.equal(parse(['--store', 'memory', '--log-level=debug']).store, 'memory');
  assert.equal(parse(['--store', 'memory', '--log-level=debug']).logLevel, 'debug');
});

test('the last of a repeated flag wins', () => {
  assert.equal(parse(['--mqtt-port', '1', '--mqtt-port', '2']).mqttPort, 2);
});

test('boolean forms: bare, =true/false, --no-', () => {
  assert.equal(parse(['--allow-anonymous']).allowAnonymous, true);
  assert.equal(parse(['--allow-anonymous=true']).allowAnonymous, true);
  assert.equal(parse(['--allow-anonymous=false']).allowAnonymous, false);
  assert.equal(parse(['--allow-anonymous=no']).allowAnonymous, false);
  assert.equal(parse(['--allow-anonymous', '--no-allow-anonymous']).allowAnonymous, false);
  assert.equal(parse(['--no-allow-anonymous', '--allow-anonymous']).allowAnonymous, true);
  rejects(['--allow-anonymous=maybe'], ['--allow-anonymous', 'true or false', '"maybe"']);
  rejects(['--no-allow-anonymous=true'], ['--no-allow-anonymous', 'takes no value']);
  rejects(['--no-host'], ['unknown flag --no-host']);
});

test('a boolean takes a following true/false (mosquitto users write `--retain-available false`), no other word', () => {
  assert.equal(parse(['--allow-anonymous', 'false']).allowAnonymous, false);
  assert.equal(parse(['--allow-anonymous', 'true']).allowAnonymous, true);
  assert.equal(parse(['--retain-available', 'false', '--mqtt-port', '1884']).retainAvailable, false);
  rejects(['--allow-anonymous', 'no'], ['unexpected argument "no"', '--allow-anonymous=no']);
});

test('sizes accept bytes and binary or decimal units', () => {
  assert.equal(parse(['--max-packet-size', '1048576']).maxPacketSize, 1_048_576);
  assert.equal(parse(['--max-packet-size', '1MiB']).maxPacketSize, 1_048_576);
  assert.equal(parse(['--max-packet-size', '512KiB']).maxPacketSize, 524_288);
  assert.equal(parse(['--max-packet-size', '10kB']).maxPacketSize, 10_000);
  assert.equal(parse(['--max-queued-bytes', '2GiB']).maxQueuedBytes, 2 * 1024 ** 3);
  rejects(['--max-packet-size', '1MiB2'], ['--max-packet-size']);
  rejects(['--max-packet-size', '1TiB'], ['--max-packet-size']);
});

test('the max-packet-size error reads as documented', () => {
  assert.throws(() => parse(['--max-packet-size', '0']), {
    name: 'ConfigError',
    message: '--max-packet-size must be a size between 17 and 268435455 bytes (got "0")',
  });
});

test('formatSize and parseSize round-trip any byte count', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (bytes) => parseSize(formatSize(bytes)) === bytes));
});

const numeric = START_FLAGS.filter((def) => def.kind === 'int' || def.kind === 'size');

for (const def of numeric) {
  const min = def.min ?? 0;
  const max = def.max ?? Number.MAX_SAFE_INTEGER;
  const key = def.key;

  test(`--${def.name} accepts ${min} and ${max} and refuses values outside`, () => {
    assert.equal(parse([`--${def.name}`, String(min)])[key], min);
    assert.equal(parse([`--${def.name}=${max}`])[key], max);
    const below = String(min - 1);
    rejects([`--${def.name}`, below], [`--${def.name} must be`, `between ${min} and ${max}`, `(got "${below}")`]);
    if (max < Number.MAX_SAFE_INTEGER) {
      const above = String(max + 1);
      rejects([`--${def.name}`, above], [`--${def.name} must be`, `between ${min} and ${max}`, `(got "${above}")`]);
    }
    for (const junk of ['abc', '1.5', '', '0x10', ' 5']) {
      rejects([`--${def.name}=${junk}`], [`--${def.name} must be`, `(got "${junk}")`]);
    }
  });
}

for (const def of START_FLAGS.filter((row) => row.kind === 'enum')) {
  test(`--${def.name} accepts exactly ${(def.values ?? []).join(', ')}`, () => {
    for (const value of def.values ?? []) assert.equal(parse([`--${def.name}`, value])[def.key], value);
    rejects([`--${def.name}`, 'nope'], [`--${def.name} must be one of ${(def.values ?? []).join(', ')}`, '(got "nope")']);
  });
}

test('string and path flags refuse empty values', () => {
  for (const def of START_FLAGS.filter((row) => row.kind === 'string' || row.kind === 'path')) {
    rejects([`--${def.name}=`], [`--${def.name} must be a non-empty`]);
  }
});

test('a flag missing its value says which flag', () => {
  rejects(['--host'], ['--host needs a value']);
  rejects(['--mqtt-port', '--host', 'x'], ['--mqtt-port needs a value']);
  rejects(['--mqtt-port', '-1'], ['--mqtt-port must be', '(got "-1")']);
});

test('unknown flags are refused with the closest known flag', () => {
  rejects(['--mqtt-prot', '1'], ['unknown flag --mqtt-prot', 'did you mean --mqtt-port?']);
  rejects(['--maxPacketSize=1'], ['unknown flag --maxPacketSize', 'did you mean --max-packet-size?']);
  rejects(['--allow-anonymus'], ['did you mean --allow-anonymous?']);
  rejects(['-p', '1'], ['unknown flag -p']);
  rejects(['start'], ['unexpected argument "start"']);
  assert.throws(
    () => parse(['--zzzzzzzzzz']),
    (err: unknown) => err instanceof ConfigError && !err.message.includes('did you mean'),
  );
});

test('a config file sets options and command-line flags override it', () => {
  const path = configFile({ 'mqtt-port': 1884, 'allow-anonymous': true, 'max-packet-size': '2MiB', host: '0.0.0.0', store: 'memory' });
  const fromFile = parse(['--config', path]);
  assert.equal(fromFile.mqttPort, 1884);
  assert.equal(fromFile.allowAnonymous, true);
  assert.equal(fromFile.maxPacketSize, 2 * 1024 * 1024);
  assert.equal(fromFile.host, '0.0.0.0');
  assert.equal(fromFile.store, 'memory');
  assert.equal(fromFile.config, path);
  assert.equal(fromFile.receiveMaximum, 64, 'keys absent from the file keep their defaults');

  const overridden = parse(['--mqtt-port', '1885', `--config=${path}`, '--no-allow-anonymous']);
  assert.equal(overridden.mqttPort, 1885);
  assert.equal(overridden.allowAnonymous, false);
  assert.equal(overridden.host, '0.0.0.0');
});

test('paths in a config file are relative to the file', () => {
  const path = configFile({ 'data-dir': 'store' });
  assert.equal(parse(['--config', path]).dataDir, join(path, '..', 'store'));
  assert.equal(parse(['--config', path, '--data-dir', 'here']).dataDir, 'here');
});

test('config file errors name the key and the file', () => {
  const unknown = configFile({ 'mqtt-prot': 1 });
  rejects(['--config', unknown], ['unknown key "mqtt-prot"', unknown, 'did you mean "mqtt-port"?']);
  rejects(['--config', configFile({ mqttPort: 1 })], ['did you mean "mqtt-port"?']);
  rejects(['--config', configFile({ config: 'other.json' })], ['"config" is not allowed']);
  const bad = configFile({ 'mqtt-port': 70000 });
  rejects(['--config', bad], ['"mqtt-port" in config file', 'between 0 and 65535', '(got "70000")']);
  rejects(['--config', configFile({ host: null })], ['"host" in config file', '(got null)']);
  rejects(['--config', configFile({ 'mqtt-port': 1.5 })], ['(got "1.5")']);
  rejects(['--config', configFile([1, 2])], ['must hold a JSON object']);
  rejects(['--config', configFile('{"mqtt-port": ')], ['is not valid JSON']);
  rejects(['--config', join(tmpdir(), 'junction-no-such-dir', 'x.json')], ['cannot read config file']);
});

test('JUNCTION_NATIVE sets native over the config file, the flag wins over both', () => {
  const path = configFile({ native: 'on' });
  assert.equal(parse([], { JUNCTION_NATIVE: 'off' }).native, 'off');
  assert.equal(parse(['--config', path], { JUNCTION_NATIVE: 'off' }).native, 'off');
  assert.equal(parse(['--config', path]).native, 'on');
  assert.equal(parse(['--native', 'auto'], { JUNCTION_NATIVE: 'off' }).native, 'auto');
  assert.equal(parse([], { JUNCTION_NATIVE: '' }).native, 'auto');
  rejects([], ['JUNCTION_NATIVE must be one of auto, on, off', '(got "fast")'], { JUNCTION_NATIVE: 'fast' });
});

function defaultShown(def: FlagDef): string {
  if (def.defaultText !== undefined) return def.defaultText;
  const value = defaultOf(def);
  if (def.kind === 'port' && value === -1) return 'off';
  return def.kind === 'size' && typeof value === 'number' ? formatSize(value) : String(value);
}

test('help lists every flag with its default, grouped', () => {
  const text = helpText();
  for (const def of START_FLAGS) {
    assert.ok(text.includes(`--${def.kind === 'bool' ? '[no-]' : ''}${def.name}`), `help lacks --${def.name}`);
  }
  const flat = text.replace(/\s+/g, ' ');
  for (const def of START_FLAGS) {
    assert.ok(flat.includes(`default ${defaultShown(def)}`), `help lacks the default of --${def.name}`);
  }
  for (const group of new Set(START_FLAGS.map((def) => def.group))) assert.ok(text.includes(`${group}:`));
  assert.ok(flat.includes('0 = unlimited (retain stays enabled)'));
  assert.ok(startHelp().startsWith('Usage: junction start [flags]'));
  assert.ok(startHelp().includes('JUNCTION_NATIVE'));
});
