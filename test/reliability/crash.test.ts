/**
 * Crash safety in CI: three SIGKILLs at random moments under QoS 1 and QoS 2 load; nothing the
 * broker acknowledged is lost or (QoS 2) duplicated, retained messages and sessions survive.
 * The long run: `node scripts/crash-soak.mjs --kills 20` (docs/RELIABILITY.md).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCrashSoak } from './crash-run.js';

test('SIGKILL x3 under QoS 1/2 load: every acknowledged message arrives, QoS 2 once, retained and sessions intact', async () => {
  const seed = Number(process.env['JUNCTION_CRASH_SEED'] ?? Date.now() >>> 0);
  const r = await runCrashSoak({ kills: 3, seed, minUpMs: 400, maxUpMs: 1200 });
  assert.ok(r.acked.qos1 > 50 && r.acked.qos2 > 50, `too little traffic to prove anything: ${JSON.stringify(r.acked)}`);
  assert.ok(r.acked.retained > 0, 'no retained message was acknowledged');
  assert.deepEqual(r.problems, [], `seed ${seed} (JUNCTION_CRASH_SEED=${seed} repeats the kill timing):\n${r.problems.join('\n')}`);
});
