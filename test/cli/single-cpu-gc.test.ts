import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { singleCpuGcPlan } from '../../src/server/single-cpu-gc.js';
import { freePort } from '../interop/harness.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = `${root}dist/src/cli/main.js`;

test('--single-threaded-gc: auto restarts only on one CPU, on restarts anyway, never twice, off never', () => {
  assert.equal(singleCpuGcPlan('auto', [], 1, false), 'restart');
  assert.deepEqual(singleCpuGcPlan('auto', [], 2, false), { state: 'not wanted' });
  assert.equal(singleCpuGcPlan('on', [], 8, false), 'restart');
  assert.deepEqual(singleCpuGcPlan('off', [], 1, false), { state: 'not wanted' });
  assert.deepEqual(singleCpuGcPlan('auto', ['--single-threaded-gc'], 1, true), { state: 'on' });
  assert.deepEqual(singleCpuGcPlan('off', ['--single-threaded-gc'], 4, false), { state: 'on' }, 'started with it by hand');
  assert.deepEqual(singleCpuGcPlan('on', [], 1, true), { state: 'failed', reason: 'the restarted process has no --single-threaded-gc' }, 'a restarted process never restarts again');
});

interface Started {
  pid: number;
  cmdline: string[];
  logs: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** `junction start` under `taskset -c 0` (one CPU), up to its ready line. */
async function startOnOneCpu(port: number, extra: string[]): Promise<Started> {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-gc-'));
  const flags = ['--mqtt-port', String(port), '--data-dir', dataDir, '--stomp-port', 'off', '--jt808-port', 'off', '--gbt32960-port', 'off', '--allow-anonymous', ...extra];
  const child = spawn('taskset', ['-c', '0', process.execPath, bin, 'start', ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  let partial = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 20 s: ${JSON.stringify(logs)}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`junction start exited (${code}): ${JSON.stringify(logs)}`)));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry['msg'] === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      }
    });
  });
  const pid = child.pid!;
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  return {
    pid,
    cmdline,
    logs,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

test('a broker started on one CPU starts itself again with --single-threaded-gc: same process, logs on the same stdout, serving MQTT', async () => {
  const port = await freePort();
  const broker = await startOnOneCpu(port, []);
  try {
    // taskset execs node in place, and so does the restart: the process spawned is the broker.
    assert.ok(broker.cmdline.includes('--single-threaded-gc'), broker.cmdline.join(' '));
    assert.ok(
      broker.logs.some((l) => typeof l['msg'] === 'string' && l['msg'].includes('--single-threaded-gc')),
      'its log says so, on the stdout it was started with',
    );
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
    await client.subscribeAsync('gc/t', { qos: 1 });
    const got = new Promise<string>((resolve) => client.once('message', (_t, p) => resolve(p.toString())));
    await client.publishAsync('gc/t', 'one core', { qos: 1 });
    assert.equal(await got, 'one core');
    await client.endAsync();
  } finally {
    await broker.stop();
  }
});

test('--single-threaded-gc off keeps a one-CPU broker as it was started', async () => {
  const broker = await startOnOneCpu(await freePort(), ['--single-threaded-gc', 'off']);
  try {
    assert.equal(broker.cmdline.includes('--single-threaded-gc'), true, 'the flag is on the command line as a broker flag');
    assert.equal(broker.cmdline.indexOf('--single-threaded-gc') > broker.cmdline.indexOf('start'), true, 'only after start, not as a node flag');
    assert.equal(
      broker.logs.some((l) => typeof l['msg'] === 'string' && l['msg'].includes('main thread only')),
      false,
    );
  } finally {
    await broker.stop();
  }
});
