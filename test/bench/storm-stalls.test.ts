/**
 * Smoke test of scripts/storm-stalls (docs/PERFORMANCE.md, "GC threads on one core"): one short
 * storm against a broker on one core, and the summary of its event-loop stalls.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run } from '../interop/commands.js';

test('scripts/storm-stalls runs a storm against a broker on one core and sums the stalls it logged', async () => {
  const r = await run('scripts/storm-stalls', ['--idle', '1', '--storms', '1'], 60_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^held 1, junction args "": stalls > 5 ms \d+ \(sum \d+ ms\), > 8 ms \d+ \(sum \d+ ms\), longest [\d.]+ ms; steal on core 0 \d+ ms$/m);
  assert.match(r.stderr, /storm 1 of 1/);
});
