import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { START_FLAGS } from '../../src/server/options.js';

// The shipped bin, as `npm start` and users run it; build it with `npx tsc -p tsconfig.json`.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = `${root}dist/src/cli/main.js`;

function junction(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  assert.ok(existsSync(bin), `${bin} is missing: run npx tsc -p tsconfig.json first`);
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, JUNCTION_NATIVE: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('--version and -v print the version from package.json', () => {
  const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const run = junction(flag);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, `junction ${version}\n`);
    assert.equal(run.stderr, '');
  }
});

test('--help, -h and help list the commands and exit 0', () => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const run = junction(...args);
    assert.equal(run.code, 0, args.join(' '));
    assert.match(run.stdout, /^Usage: junction <command>/);
    assert.match(run.stdout, /\n {2}start +run the broker/);
  }
});

test('start --help and help start show every start flag', () => {
  for (const args of [
    ['start', '--help'],
    ['start', '--mqtt-port', '1', '-h'],
    ['help', 'start'],
  ]) {
    const run = junction(...args);
    assert.equal(run.code, 0, args.join(' '));
    assert.match(run.stdout, /^Usage: junction start \[flags\]/);
    for (const def of START_FLAGS) assert.ok(run.stdout.includes(`${def.name}`), `${args.join(' ')} lacks --${def.name}`);
  }
});

test('no command prints the usage to stderr and exits 2', () => {
  const run = junction();
  assert.equal(run.code, 2);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /Usage: junction <command>/);
});

test('an unknown command is one line pointing to --help, exit 2', () => {
  const run = junction('stop');
  assert.equal(run.code, 2);
  assert.equal(run.stderr, 'junction: unknown command "stop"; see junction --help\n');
  assert.equal(junction('--port').stderr, 'junction: unknown option "--port"; see junction --help\n');
});

test('bad start flags print junction: <message> and exit 2 before the broker loads', () => {
  const bad = junction('start', '--max-packet-size', '0');
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'junction: --max-packet-size must be a size between 17 and 268435455 bytes (got "0")\n');
  assert.equal(bad.stdout, '');

  const unknown = junction('start', '--mqtt-prot', '1884');
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, 'junction: unknown flag --mqtt-prot (did you mean --mqtt-port?)\n');

  const missing = junction('start', '--config', `${root}no-such-junction-config.json`);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^junction: cannot read config file .*no-such-junction-config\.json/);
});
