/**
 * Guardrails at start: --node-name validated (it is a topic level), a warning with the way out
 * when the descriptor limit is below --max-connections, the reason when the native module is
 * not used, the flag named in every file-system error, and the node name on every log line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { junctionCli } from '../../bench/lib/repo.js';
import { descriptorLimits, nodeNameProblem } from '../../src/server/guardrails.js';
import { runBroker, type TestContext } from '../interop/harness.js';
import { startRefused } from '../transports/helpers.js';

/** Starts the broker through bash (to set a ulimit or the environment first); resolves with its log lines once it is ready, then stops it. */
function startAndStop(t: TestContext, shellPrefix: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Array<Record<string, unknown>>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-guard-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const command = `${shellPrefix} exec "${process.execPath}" "${junctionCli()}" start --mqtt-port 0 --data-dir "${dir}" ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Array<Record<string, unknown>> = [];
    let partial = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready within 10 s: ${JSON.stringify(lines.slice(-5))} ${stderr}`));
    }, 10_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      partial += d.toString();
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) {
        if (part.trim() === '') continue;
        const line = JSON.parse(part) as Record<string, unknown>;
        lines.push(line);
        if (line['msg'] === 'ready') child.kill('SIGTERM');
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!lines.some((l) => l['msg'] === 'ready')) reject(new Error(`exited ${code} before ready: ${stderr}`));
      else resolve(lines);
    });
  });
}

test('--node-name must be one topic level: /, +, #, a leading $, spaces and empty names are refused naming the flag', async () => {
  for (const bad of ['a/b', 'node+1', 'node#', '$node', 'two words', '']) {
    const r = await runBroker(['start', '--mqtt-port', '0', '--store', 'memory', '--node-name', bad]);
    assert.equal(r.code, 2, `${bad}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^junction: --node-name .*must/, bad);
  }
  assert.equal(nodeNameProblem('junction@host-1.example'), null);
  assert.equal(nodeNameProblem('x'.repeat(129))?.startsWith('must be at most 128'), true);
});

test('every log line carries the node name', async (t) => {
  const lines = await startAndStop(t, '', ['--store', 'memory', '--node-name', 'edge-7']);
  assert.ok(lines.length >= 3);
  for (const line of lines) assert.equal(line['node'], 'edge-7', JSON.stringify(line));
});

test('a descriptor limit below --max-connections is a warning that says how to raise it; enough descriptors say nothing', async (t) => {
  const low = await startAndStop(t, 'ulimit -n 1024 &&', ['--store', 'memory', '--max-connections', '5000']);
  const warning = low.find((l) => String(l['msg']).startsWith('the open-file limit is below --max-connections'));
  assert.ok(warning !== undefined, JSON.stringify(low));
  assert.equal(warning['softLimit'], 1024);
  assert.equal(warning['maxConnections'], 5000);
  assert.equal(warning['connectionsThatFit'], 1024 - 64);
  assert.match(String(warning['howToRaise']), /ulimit -n 5064|LimitNOFILE=5064/);
  const enough = await startAndStop(t, 'ulimit -n 1024 &&', ['--store', 'memory', '--max-connections', '900']);
  assert.equal(
    enough.some((l) => String(l['msg']).startsWith('the open-file limit')),
    false,
  );
  assert.deepEqual(descriptorLimits('Limit                     Soft Limit           Hard Limit           Units\nMax open files            4096                 524288               files\n'), {
    soft: 4096,
    hard: 524288,
  });
  assert.equal(descriptorLimits('nothing here'), null);
});

test('when the native module does not load, the log says why and how to fix it', async (t) => {
  const env: NodeJS.ProcessEnv = { ...process.env, JUNCTION_NATIVE_PATH: '/nonexistent/junction.node' };
  delete env['JUNCTION_REQUIRE_NATIVE'];
  const lines = await startAndStop(t, '', ['--store', 'memory'], env);
  const line = lines.find((l) => String(l['msg']).startsWith('native module not used'));
  assert.ok(line !== undefined, JSON.stringify(lines));
  assert.equal(line['level'], 'warn');
  assert.match(String(line['reason']), /Cannot find module '\/nonexistent\/junction\.node'/);
  assert.match(String(line['fix']), /make -C native/);
  const off = await startAndStop(t, '', ['--store', 'memory', '--native', 'off'], env);
  assert.ok(off.some((l) => l['msg'] === 'native module off (--native off): TypeScript frame scanner and topic trie' && l['level'] === 'info'));
});

test('file-system errors name the flag of the file', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-fs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const aFile = path.join(dir, 'a-file');
  writeFileSync(aFile, 'not a folder\n');
  const missing = path.join(dir, 'missing');
  const cases: Array<[string[], RegExp]> = [
    [['--data-dir', aFile], /--data-dir .*a-file: .*EEXIST|ENOTDIR/],
    [['--config', missing], /\(--config\)/],
    [['--password-file', missing], /--password-file .*missing/],
    [['--acl-file', missing], /--acl-file .*missing/],
    [['--device-keys-file', missing], /--device-keys-file .*missing/],
    [['--jwt-public-key', missing], /--jwt-public-key .*missing/],
    [['--tls-cert', missing, '--tls-key', missing, '--mqtts-port', '0'], /--tls-cert .*missing/],
    [['--admin-port', '0', '--admin-token-file', missing], /--admin-token-file .*missing/],
    [['--admin-port', '0', '--store', 'memory', '--data-dir', path.join(aFile, 'sub')], /--data-dir .*a-file\/sub/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runBroker(['start', '--mqtt-port', '0', ...(args.includes('--data-dir') ? [] : ['--data-dir', path.join(dir, 'data')]), ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(' '));
  }
});

test('the admin listener runs on the native uWebSockets.js only: its JavaScript fallback is refused, naming --admin-port', async () => {
  const r = await startRefused(['--admin-port', '0', '--store', 'memory'], { UWS_USE_FALLBACK: '1' });
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, /admin listeners \(--admin-port\) need the native uWebSockets\.js.*UWS_USE_FALLBACK is set.*leave --admin-port off/);
});
