import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import type { LogLevel, LogThreshold } from '../../src/log/logger.js';
import { LOG_THRESHOLDS, LogRateLimit, Logger } from '../../src/log/logger.js';

const TIME = new Date('2026-01-02T03:04:05.678Z');
const LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];

function capture(level: LogThreshold = 'trace'): { log: Logger; lines: () => Record<string, unknown>[]; raw: string[] } {
  const raw: string[] = [];
  const log = new Logger({ level, destination: { write: (line: string) => raw.push(line) }, clock: () => TIME });
  return { log, raw, lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

test('a line is one JSON object with time, level, msg first, then fields, ending in a newline', () => {
  const { log, raw } = capture();
  log.info('client connected', { clientId: 'c1', qos: 1 });
  assert.equal(raw.length, 1);
  assert.equal(raw[0], '{"time":"2026-01-02T03:04:05.678Z","level":"info","msg":"client connected","clientId":"c1","qos":1}\n');
});

test('each threshold writes its level and the more severe ones only', () => {
  for (const threshold of LOG_THRESHOLDS) {
    const { log, lines } = capture(threshold);
    for (const level of LEVELS) log[level](level);
    const cut = threshold === 'silent' ? 0 : LEVELS.indexOf(threshold) + 1;
    assert.deepEqual(
      lines().map((line) => line.level),
      LEVELS.slice(0, cut),
      `threshold ${threshold}`,
    );
    assert.deepEqual(
      LEVELS.map((level) => log.enabled(level)),
      LEVELS.map((_, i) => i < cut),
      `enabled at ${threshold}`,
    );
  }
});

test('child loggers add fixed fields; call fields come after; the parent is unchanged', () => {
  const { log, lines } = capture();
  const conn = log.child({ clientId: 'c1', remote: '10.0.0.1:5000' });
  const sub = conn.child({ topic: 'a/b' });
  sub.debug('subscribed', { qos: 2 });
  conn.info('override', { clientId: 'c2' });
  log.info('plain');
  const [first, second, third] = lines();
  assert.deepEqual(first, { time: TIME.toISOString(), level: 'debug', msg: 'subscribed', clientId: 'c1', remote: '10.0.0.1:5000', topic: 'a/b', qos: 2 });
  assert.equal(second?.clientId, 'c2');
  assert.deepEqual(third, { time: TIME.toISOString(), level: 'info', msg: 'plain' });
});

test('setLevel on a parent applies to its children', () => {
  const { log, lines } = capture('info');
  const child = log.child({ part: 'router' });
  child.debug('hidden');
  log.setLevel('debug');
  child.debug('shown');
  assert.equal(child.level, 'debug');
  assert.deepEqual(
    lines().map((line) => line.msg),
    ['shown'],
  );
});

test('secret fields are redacted, whatever their case, at the top level and nested', () => {
  const { log, raw, lines } = capture();
  log.child({ token: 'child-token' }).warn('auth', {
    password: 's3cr3t-1',
    Passcode: 's3cr3t-2',
    SECRET: 's3cr3t-3',
    authorization: 'Basic s3cr3t-4',
    key: 's3cr3t-5',
    apiKey: 's3cr3t-6',
    client_secret: 's3cr3t-7',
    user: { name: 'alice', password: 's3cr3t-8', Token: 's3cr3t-9' },
    keepalive: 60,
    monkey: 'banana',
  });
  const [line] = lines();
  assert.deepEqual(line, {
    time: TIME.toISOString(),
    level: 'warn',
    msg: 'auth',
    token: '[redacted]',
    password: '[redacted]',
    Passcode: '[redacted]',
    SECRET: '[redacted]',
    authorization: '[redacted]',
    key: '[redacted]',
    apiKey: '[redacted]',
    client_secret: '[redacted]',
    user: { name: 'alice', password: '[redacted]', Token: '[redacted]' },
    keepalive: 60,
    monkey: 'banana',
  });
  assert.ok(!raw[0]!.includes('s3cr3t'), 'no secret value reaches the line');
  assert.ok(!raw[0]!.includes('child-token'));
});

test('errors render as name, code and message, without the stack', () => {
  const { log, lines } = capture();
  log.error('bad config', { err: new ConfigError('--host must be a non-empty string (got "")'), plain: new TypeError('x') });
  const [line] = lines();
  assert.deepEqual(line?.err, { name: 'ConfigError', code: 'JN_CONFIG', message: '--host must be a non-empty string (got "")' });
  assert.deepEqual(line?.plain, { name: 'TypeError', message: 'x' });
});

test('buffers are written as their length, never their bytes', () => {
  const { log, raw, lines } = capture();
  log.debug('payload', { payload: Buffer.from('hello world!'), nested: { data: new Uint8Array(3) } });
  const [line] = lines();
  assert.equal(line?.payload, '<buffer 12 bytes>');
  assert.deepEqual(line?.nested, { data: '<buffer 3 bytes>' });
  assert.ok(!raw[0]!.includes('hello'));
});

test('fields cannot forge time, level or msg', () => {
  const { log, lines } = capture();
  log.info('real', { level: 'error', msg: 'fake', time: 'then' });
  const [line] = lines();
  assert.equal(line?.level, 'info');
  assert.equal(line?.msg, 'real');
  assert.equal(line?.time, TIME.toISOString());
  assert.equal(line?._level, 'error');
});

test('awkward values (bigint, cycles, deep nesting) still give one valid line', () => {
  const { log, lines } = capture();
  const cycle: Record<string, unknown> = { name: 'loop' };
  cycle.self = cycle;
  log.info('odd', { big: 12n, cycle, deep: { a: { b: { c: { d: 1 } } } } });
  const [line] = lines();
  assert.equal(line?.big, '12');
  assert.equal((line?.cycle as Record<string, unknown> | undefined)?.['name'], 'loop');
  assert.ok(JSON.stringify(line?.deep).includes('[object]'));
});

test('a file descriptor destination gets whole lines synchronously', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'junction-log-')), 'out.log');
  const fd = openSync(path, 'w');
  const log = new Logger({ destination: fd, level: 'info' });
  log.info('one', { n: 1 });
  log.info('two', { n: 2 });
  assert.deepEqual(
    readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((text) => (JSON.parse(text) as { msg: string }).msg),
    ['one', 'two'],
  );
  closeSync(fd);
});

test('lines written just before process.exit reach stdout', () => {
  const module = new URL('../../src/log/logger.js', import.meta.url).href;
  const script = `import { Logger } from ${JSON.stringify(module)};
    const log = new Logger();
    for (let i = 0; i < 2000; i++) log.info('line', { i });
    process.exit(3);`;
  let out = '';
  try {
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (err) {
    out = (err as { stdout: string }).stdout;
  }
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 2000);
  assert.equal((JSON.parse(lines[1999]!) as { i: number }).i, 1999);
});

test('LogRateLimit allows N lines per key per second and counts the rest', () => {
  let now = 10_000;
  const limit = new LogRateLimit(3, { now: () => now });
  assert.deepEqual(
    [1, 2, 3, 4, 5].map(() => limit.allow('a')),
    [true, true, true, false, false],
  );
  assert.equal(limit.allow('b'), true, 'keys are independent');
  now += 999;
  assert.equal(limit.allow('a'), false);
  now += 1;
  assert.equal(limit.allow('a'), true);
  assert.equal(limit.takeSuppressed('a'), 3);
  assert.equal(limit.takeSuppressed('a'), 0);
  assert.throws(() => new LogRateLimit(0), RangeError);
});

test('LogRateLimit holds a bounded number of keys; extra keys share one budget', () => {
  let now = 0;
  const limit = new LogRateLimit(1, { maxKeys: 4, now: () => now });
  for (let i = 0; i < 3; i++) assert.equal(limit.allow(`k${i}`), true);
  assert.equal(limit.allow('new1'), true);
  assert.equal(limit.allow('new2'), true, 'past maxKeys fresh keys share one overflow budget');
  assert.equal(limit.allow('new3'), false, 'a never-seen key is refused once the shared budget is spent');
  assert.equal(limit.allow('new4'), false);
  assert.equal(limit.takeSuppressed('new3'), 2, 'overflow keys report the shared count');
  now += 1000;
  assert.equal(limit.allow('new5'), true, 'expired keys are swept to make room');
  assert.equal(limit.allow('new5'), false, 'and the fresh key gets its own budget');
});
