/**
 * Smoke test of `junction bench` against a real broker process: short fanin and conn runs must
 * report rates above zero and write a valid JSON result; bad usage and an unreachable broker
 * must end with a clear message, not a hang.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { brokerFor, freePort, run } from '../../interop/harness.js';
import { BENCH_FLAGS } from '../../../bench/load/options.js';
import type { BenchResult } from '../../../bench/load/report.js';

/** Runs `junction bench` from dist/ and parses the JSON file it wrote. */
async function bench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; result: BenchResult | undefined }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-bench-'));
  const file = path.join(dir, 'result.json');
  try {
    const r = await run(process.execPath, ['dist/src/cli/main.js', 'bench', ...args, '--json', file], 40_000);
    assert.equal(r.timedOut, false, `bench timed out; stderr:\n${r.stderr}`);
    let result: BenchResult | undefined;
    try {
      result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
    } catch {
      result = undefined;
    }
    return { code: r.code, stdout: r.stdout, stderr: r.stderr, result };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('fanin for 2 s reports publish and delivery rates, latency and CPU of generator and broker', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory'] });
  const { code, stderr, result } = await bench(['fanin', '--port', String(broker.port), '--publishers', '10', '--duration', '2', '--warmup', '0', '--procs', '2', '--qos', '1']);
  assert.equal(code, 0, stderr);
  assert.ok(result, `no JSON result; stderr:\n${stderr}`);
  assert.equal(result.format, 'junction-bench/1');
  assert.equal(result.scenario, 'fanin');
  assert.equal(result.connections.connected, 11);
  assert.equal(result.errors.total, 0, result.errors.samples.join('; '));
  assert.ok(result.sent.perSecond > 0, `sent ${result.sent.perSecond}/s`);
  assert.ok(result.received.perSecond > 0, `received ${result.received.perSecond}/s`);
  // QoS 1 to one subscriber: every publish acknowledged by the broker arrives (no queue overflow at this size).
  assert.ok(result.received.count <= result.expectedDeliveries + 10 * 32, 'more deliveries than were sent');
  assert.ok(result.latencyMicros !== null && result.latencyMicros.p50 > 0 && result.latencyMicros.p99 >= result.latencyMicros.p50);
  assert.ok(result.generator.cpuPercent > 0);
  assert.ok(result.broker !== null, 'broker not found by its port');
  assert.equal(result.broker.pid, broker.process.pid);
  assert.ok((result.broker.rssBytes ?? 0) > 0);
  assert.match(stderr, /fanin measuring: {2}sent [\d,]+\/s {2}recv [\d,]+\/s/, 'no progress line');
});

test('conn opens idle connections with a subscription each and reports connect rate and memory per connection', async (t) => {
  const broker = await brokerFor(t, { args: ['--store', 'memory'] });
  const { code, stderr, stdout, result } = await bench(['conn', '--port', String(broker.port), '--connections', '300', '--subscribe', '--duration', '2', '--procs', '2', '--source-addresses', '4']);
  assert.equal(code, 0, stderr);
  assert.ok(result, `no JSON result; stderr:\n${stderr}`);
  assert.equal(result.connections.connected, 300);
  assert.equal(result.connections.failed, 0);
  assert.ok(result.connections.perSecond > 0);
  assert.ok(result.broker !== null && result.broker.bytesPerConnection !== null);
  assert.match(stderr + stdout, /per connection/);
});

test('an unknown scenario or flag is refused with exit code 2 and names the culprit', async () => {
  const scenario = await run(process.execPath, ['dist/src/cli/main.js', 'bench', 'fanfare'], 10_000);
  assert.equal(scenario.code, 2);
  assert.match(scenario.stderr, /unknown scenario "fanfare": one of fanin, fanout, p2p, shared, conn, retained/);
  const flag = await run(process.execPath, ['dist/src/cli/main.js', 'bench', 'fanin', '--qos', '3'], 10_000);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--qos must be an integer between 0 and 2 \(got "3"\)/);
});

test('--help lists every flag of the table, each scenario and an example', async () => {
  const r = await run(process.execPath, ['dist/src/cli/main.js', 'bench', '--help'], 10_000);
  assert.equal(r.code, 0, r.stderr);
  for (const flag of BENCH_FLAGS) assert.match(r.stdout, new RegExp(`--${flag.kind === 'bool' ? '\\[no-\\]' : ''}${flag.name}\\b`), `--${flag.name} missing from --help`);
  for (const scenario of ['fanin', 'fanout', 'p2p', 'shared', 'conn', 'retained']) assert.match(r.stdout, new RegExp(`^  ${scenario} `, 'm'));
  assert.match(r.stdout, /^Example: junction bench /m);
});

test('a broker that is not there ends the run quickly with the connect error', async () => {
  const port = await freePort();
  const r = await run(process.execPath, ['dist/src/cli/main.js', 'bench', 'p2p', '--port', String(port), '--pairs', '3', '--procs', '1', '--no-progress'], 20_000);
  assert.equal(r.timedOut, false);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`client\\(s\\) could not connect to 127\\.0\\.0\\.1:${port} \\(tcp\\): .*ECONNREFUSED`));
});
