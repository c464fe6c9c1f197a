/**
 * A short run of the durable-routes bench (its full run, a million routes, is recorded in
 * docs/CLUSTER.md): against a real nats-server it writes the routes, one node loads every one of
 * them, and the figures it prints are there and plausible.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run } from '../../interop/harness.js';

test('durable-routes-scale writes N routes, loads all N into a node and reports memory and match cost', async () => {
  const out = await run(process.execPath, ['--expose-gc', 'dist/bench/cluster/durable-routes-scale.js', '--routes', '3000'], 120_000);
  assert.equal(out.code, 0, out.stderr);
  const report = JSON.parse(out.stdout.trim().split('\n').pop()!) as Record<string, number | string>;
  assert.equal(report['routes'], 3000);
  assert.equal(report['matcher'], 'native');
  for (const key of ['writesPerSecond', 'loadSeconds', 'heapBytesPerRoute', 'wantsMicrosUncached']) assert.ok(Number(report[key]) > 0, `${key}: ${report[key]}`);
  // Each route holds at least its names; a figure of a few bytes would mean nothing was loaded.
  assert.ok(Number(report['heapBytesPerRoute']) > 50, `heap per route ${report['heapBytesPerRoute']}`);
});
