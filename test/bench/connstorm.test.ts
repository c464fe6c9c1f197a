/**
 * Smoke test of tools/connstorm, the connect-rate generator of scripts/compare-connect-rate,
 * against real broker processes: every connection answered is counted once, a refused one
 * (CONNACK with a non-zero code) is a failure that names the cause and sets the exit code.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { brokerFor } from '../interop/harness.js';
import { run } from '../interop/commands.js';

const STORM = 'tools/connstorm/connstorm';

interface StormResult {
  connections: number;
  connected: number;
  failed: number;
  connectsPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  firstError: string;
  generatorCorePercent: number;
  brokerCpuMs?: number;
  brokerCpuUsPerConnection?: number;
  brokerCorePercent?: number;
  brokerKernelPercent?: number;
}

async function storm(args: string[]): Promise<{ code: number | null; result: StormResult; stdout: string }> {
  assert.ok(existsSync(STORM), `${STORM} is built by make test-tools`);
  const r = await run(STORM, [...args, '--json', '-'], 30_000);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line !== undefined, `a JSON line on stdout; got:\n${r.stdout}\n${r.stderr}`);
  return { code: r.code, result: JSON.parse(line) as StormResult, stdout: r.stdout };
}

test('connstorm opens 300 MQTT 3.1.1 and 300 MQTT 5 connections, 20 in flight, and every one gets its CONNACK', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory'] });
  for (const protocol of ['4', '5']) {
    const { code, result } = await storm(['--port', String(broker.port), '--connections', '300', '--concurrency', '20', '--protocol', protocol]);
    assert.equal(code, 0);
    assert.deepEqual([result.connected, result.failed], [300, 0], `protocol ${protocol}`);
    assert.ok(result.connectsPerSecond > 0);
    assert.ok(result.latencyMs.p50 <= result.latencyMs.p99 && result.latencyMs.p99 <= result.latencyMs.max);
  }
});

test('--broker-pid reports the broker CPU time over the storm, per connection and its kernel share', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory'] });
  const pid = broker.process.pid;
  assert.ok(pid !== undefined);
  const { code, result, stdout } = await storm(['--port', String(broker.port), '--connections', '500', '--concurrency', '20', '--broker-pid', String(pid)]);
  assert.equal(code, 0);
  // Answering 500 CONNECTs takes the broker some CPU, and no more than the storm's wall time allows on its cores.
  assert.ok(result.brokerCpuMs !== undefined && result.brokerCpuMs > 0, `brokerCpuMs ${result.brokerCpuMs}`);
  // Per connection is the total over the 500, within the JSON's rounding (0.005 µs each, 0.0005 ms in all).
  const perConnection = result.brokerCpuUsPerConnection!;
  assert.ok(perConnection > 0 && Math.abs(perConnection * 500 - result.brokerCpuMs! * 1000) <= 500 * 0.005 + 0.5, `${perConnection} µs x 500 vs ${result.brokerCpuMs} ms`);
  assert.ok(result.brokerKernelPercent! >= 0 && result.brokerKernelPercent! <= 100);
  assert.match(stdout, new RegExp(`broker \\(pid ${pid}\\) ran \\d+ ms of CPU over the storm`));
  const missing = await run(STORM, ['--port', String(broker.port), '--connections', '10', '--broker-pid', '999999999'], 5_000);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--broker-pid must name a running process/);
});

test('with --max-logins-per-turn 1 a storm of 1,000 logins, 64 in flight, is answered in full: the ones past each pass wait for the next', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--max-logins-per-turn', '1'] });
  const { code, result } = await storm(['--port', String(broker.port), '--connections', '1000', '--concurrency', '64']);
  assert.equal(code, 0);
  assert.deepEqual([result.connected, result.failed], [1000, 0]);
});

test('connstorm counts refused connections as failures and exits 1', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory', '--allow-anonymous', 'false'] });
  const { code, result } = await storm(['--port', String(broker.port), '--connections', '50', '--concurrency', '10']);
  assert.equal(code, 1);
  assert.deepEqual([result.connected, result.failed], [0, 50]);
  assert.notEqual(result.firstError, '');
});

/** TCP sockets in TIME_WAIT (state 06 of /proc/net/tcp) whose remote port is `port`. */
function timeWaitTo(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => {
      const f = line.trim().split(/\s+/);
      return f[2]?.endsWith(`:${hexPort}`) === true && f[3] === '06';
    }).length;
}

test('connstorm stopped with SIGTERM while it holds its connections resets them and exits 0: no TIME_WAIT is left', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory'] });
  assert.ok(existsSync(STORM), `${STORM} is built by make test-tools`);
  const child = spawn(STORM, ['--port', String(broker.port), '--connections', '200', '--concurrency', '20', '--hold', '60', '--source-addresses', '127.0.6.1']);
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/connstorm: 200 of 200 connected/.test(out)) resolve();
    });
    child.once('exit', () => reject(new Error(`connstorm exited before holding:\n${out}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, 'a stop during the hold is the normal end');
  // A FIN would leave each closed client in TIME_WAIT for a minute (on loopback made on the broker's core).
  assert.equal(timeWaitTo(broker.port), 0);
});

test('connstorm refuses bad usage with a message naming the option', async () => {
  const r = await run(STORM, ['--port', '0', '--connections', '10'], 5_000);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--port must be 1\.\.65535/);
});
