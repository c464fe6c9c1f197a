/**
 * Every runnable file of bench/micro/, bench/scenarios/ and bench/cluster/ answers --help with its flags and
 * refuses an unknown flag with exit code 2 before doing any work.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot, run } from '../../interop/harness.js';

/** Not tools: the stall detector runs inside a broker (its command line is the broker's), flood-job is a module, login-storm-worker a worker thread of login-storm. */
const NOT_TOOLS = new Set(['loop-stalls.js', 'flood-job.js', 'login-storm-worker.js', 'fleet-mix.js', 'registry.js', 'main.js']);

const tools = ['micro', 'scenarios', 'cluster'].flatMap((dir) =>
  readdirSync(path.join(repoRoot, 'dist', 'bench', dir))
    .filter((f) => f.endsWith('.js') && !NOT_TOOLS.has(f))
    .map((f) => `dist/bench/${dir}/${f}`),
);

test('there are tools to check', () => {
  assert.ok(tools.length >= 15, tools.join(' '));
});

for (const tool of tools) {
  test(`${tool} --help and an unknown flag`, async () => {
    const help = await run(process.execPath, [tool, '--help'], 15_000);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^Usage: node (--expose-gc )?${tool.replace(/[./]/g, '\\$&')} `));
    const bad = await run(process.execPath, [tool, '--no-such-flag'], 15_000);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /unknown flag --no-such-flag/);
  });
}
