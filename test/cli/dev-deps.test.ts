/**
 * MQTT.js and tinybench are devDependencies: `junction --help`, `junction start` and
 * `junction bench` (coordinator and worker processes) must never load them. A module resolve
 * hook, passed to every process through NODE_OPTIONS, records each time one is asked for.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { freePort, repoRoot, sleep } from '../interop/harness.js';

const DEV_ONLY = ['mqtt', 'tinybench'];

/** A hook that appends every request for a dev-only package to `log`; returns the NODE_OPTIONS that install it. */
function watchDevDeps(t: TestContext): { nodeOptions: string; log: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-devdeps-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = path.join(dir, 'loaded.txt');
  writeFileSync(
    path.join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
const watched = ${JSON.stringify(DEV_ONLY)};
export async function resolve(specifier, context, next) {
  if (watched.some((name) => specifier === name || specifier.startsWith(name + '/'))) appendFileSync(${JSON.stringify(log)}, specifier + '\\n');
  return next(specifier, context);
}
`,
  );
  writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)});\n`);
  return { nodeOptions: `--import=${pathToFileURL(path.join(dir, 'register.mjs')).href}`, log };
}

/** Runs the built CLI with the hook until it exits, or until `until` appears on stdout (then SIGTERM). */
function junction(nodeOptions: string, args: string[], until?: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/src/cli/main.js', ...args], { cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: nodeOptions } });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const onData = (d: Buffer): void => {
      output += d.toString();
      if (until !== undefined && output.includes(until)) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const loaded = (log: string): string => (existsSync(log) ? readFileSync(log, 'utf8') : '');

test('junction --help, start, bench and their --help load neither MQTT.js nor tinybench', async (t) => {
  const { nodeOptions, log } = watchDevDeps(t);
  for (const args of [['--help'], ['start', '--help'], ['bench', '--help'], ['fuzz', '--help']]) {
    const r = await junction(nodeOptions, args);
    assert.equal(r.code, 0, r.output);
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junction-devdeps-data-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const start = await junction(nodeOptions, ['start', '--mqtt-port', '0', '--store', 'memory', '--data-dir', dataDir], '"msg":"ready"');
  assert.match(start.output, /"msg":"ready"/);
  // A run against a closed port still starts the coordinator and a worker process.
  const bench = await junction(nodeOptions, ['bench', 'p2p', '--port', String(await freePort()), '--pairs', '1', '--procs', '1', '--no-progress']);
  assert.match(bench.output, /could not connect/);
  await sleep(50);
  assert.equal(loaded(log), '', 'a dev-only package was loaded');
});

test('the hook does see a dev-only package when one is loaded (the check above can fail)', async (t) => {
  const { nodeOptions, log } = watchDevDeps(t);
  const r = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['-e', 'await import("tinybench")', '--input-type=module'], { cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: nodeOptions } });
    child.once('exit', resolve);
  });
  assert.equal(r, 0);
  assert.match(loaded(log), /tinybench/);
});
