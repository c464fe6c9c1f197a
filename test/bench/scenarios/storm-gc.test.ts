/**
 * A short run of the storm-gc bench (its full figures are in docs/PERFORMANCE.md, "Connect storms
 * and the young generation"): a broker under --trace-gc-nvp takes a connect storm, and the
 * connections it made must not outlive their close (at most 300 bytes promoted per connection;
 * the build before the fix promoted 500-1,000).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run } from '../../interop/harness.js';

test('a connect storm promotes almost nothing: closed connections die in the young generation', async () => {
  const out = await run(process.execPath, ['dist/bench/scenarios/storm-gc.js', '--seconds', '4', '--warmup', '1', '--max-promoted', '300'], 120_000);
  assert.equal(out.code, 0, out.stdout + out.stderr);
  const connections = Number(/connections: (\d+)/.exec(out.stdout)?.[1]);
  assert.ok(connections > 1000, `the storm made ${connections} connections`);
  assert.match(out.stdout, /scavenges: [1-9]\d*, pause mean/, 'at least one scavenge happened during the storm, so the figure means something');
  assert.match(out.stdout, /promoted: [\d.]+ MiB, \d+ bytes per connection/);
});
