#!/usr/bin/env node
// The package as a user gets it: `npm pack` (its prepack builds the Rust module and the
// TypeScript), then, in an empty folder and with no Rust on the PATH, `npm install ./junction-*.tgz`
// and `npx junction start`. Checks what the tarball holds, that the prebuilt native module and
// the native uWebSockets.js are the ones used, that an MQTT client is answered and that the admin
// API and dashboard are served; `junction --help`, `bench --help` and `ctl --help` work without
// devDependencies. Run by .ci/run after the tests (make package-check).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(path.join(os.tmpdir(), 'junction-package-'));
const started = Date.now();
let failures = 0;
let passes = 0;

function step(text) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${text}`);
}

function check(ok, what) {
  if (ok) passes++;
  else failures++;
  console.log(`${ok ? 'ok' : 'FAILED'}: ${what}`);
}

/** PATH without any folder holding cargo or rustc: the install must not need Rust. */
function pathWithoutRust() {
  return (process.env.PATH ?? '')
    .split(':')
    .filter((dir) => {
      try {
        statSync(path.join(dir, 'cargo'));
        return false;
      } catch {
        try {
          statSync(path.join(dir, 'rustc'));
          return false;
        } catch {
          return true;
        }
      }
    })
    .join(':');
}

function npm(args, cwd, env = process.env) {
  return execFileSync('npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

/** Sends an MQTT 3.1.1 CONNECT and resolves with the CONNACK's return code. */
function mqttConnect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const id = Buffer.from('package-check');
    const body = Buffer.concat([Buffer.from([0, 4]), Buffer.from('MQTT'), Buffer.from([4, 2, 0, 30, 0, id.length]), id]);
    socket.once('connect', () => socket.write(Buffer.concat([Buffer.from([0x10, body.length]), body])));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d[0] === 0x20 ? d[3] : -1);
    });
    socket.once('error', reject);
    setTimeout(() => reject(new Error('no CONNACK within 5 s')), 5000).unref();
  });
}

try {
  step('npm pack (prepack: make -C native, tsc)');
  const packed = npm(['pack', '--json', '--pack-destination', work], root);
  const manifest = JSON.parse(packed.slice(packed.indexOf('\n[') + 1))[0];
  const files = manifest.files.map((f) => f.path);
  const tarball = path.join(work, manifest.filename);
  console.log(`${manifest.filename}: ${files.length} files, ${(manifest.size / 1024).toFixed(0)} KiB packed, ${(manifest.unpackedSize / 1024).toFixed(0)} KiB unpacked`);
  for (const wanted of [
    'native/junction.node',
    'dist/src/cli/main.js',
    'dist/src/admin/listener.js',
    'src/admin/dashboard/index.html',
    'src/admin/dashboard/dashboard.js',
    'packaging/junction.service',
    'docs/OPERATIONS.md',
    'dist/bench/load/run.js',
    'dist/bench/fuzz/run.js',
  ]) {
    check(files.includes(wanted), `the tarball holds ${wanted}`);
  }
  for (const [pattern, what] of [
    [/^test\/|^build\//, 'tests'],
    [/\.map$/, 'source maps'],
    [/^dist\/bench\/(micro|scenarios)\//, 'micro-benchmarks and scenarios (they need devDependencies)'],
    [/^native\/(src|target)\//, 'the Rust sources and build folder'],
    [/\.ts$/, 'TypeScript sources'],
  ]) {
    const found = files.filter((f) => pattern.test(f));
    check(found.length === 0, `the tarball holds no ${what}${found.length ? `: ${found.slice(0, 3).join(', ')}` : ''}`);
  }

  const app = path.join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  const env = { ...process.env, PATH: pathWithoutRust(), JUNCTION_REQUIRE_NATIVE: '' };
  delete env.JUNCTION_NATIVE_PATH;
  step('npm install ./junction-*.tgz in an empty folder, without Rust on the PATH');
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], app, env);
  const bin = path.join(app, 'node_modules', '.bin', 'junction');
  const installed = path.join(app, 'node_modules', 'junction');
  check(JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')).version === manifest.version, 'installed the packed version');

  for (const args of [['--help'], ['start', '--help'], ['bench', '--help'], ['fuzz', '--help'], ['ctl', '--help'], ['--version']]) {
    let ok = true;
    try {
      execFileSync(bin, args, { cwd: app, env, stdio: 'pipe' });
    } catch {
      ok = false;
    }
    check(ok, `npx junction ${args.join(' ')} exits 0 without devDependencies`);
  }

  const viaNpx = execFileSync('npx', ['--no-install', 'junction', '--version'], { cwd: app, env, encoding: 'utf8' });
  check(viaNpx.trim() === `junction ${manifest.version}`, `npx junction --version prints junction ${manifest.version}`);

  step('junction start --admin-port 0 in the empty folder (node_modules/.bin/junction, what npx runs)');
  const child = spawn(bin, ['start', '--mqtt-port', '0', '--admin-port', '0', '--data-dir', path.join(app, 'data')], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  let partial = '';
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  child.stdout.on('data', (d) => {
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop();
    for (const p of parts) if (p.trim() !== '') lines.push(JSON.parse(p));
  });
  const until = Date.now() + 20_000;
  while (!lines.some((l) => l.msg === 'ready')) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`the installed broker did not get ready: ${JSON.stringify(lines.slice(-5))} ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const native = lines.find((l) => String(l.msg).startsWith('native module'));
  check(
    native?.msg === 'native module loaded: Rust frame scanner and topic trie' && String(native.path).startsWith(installed),
    `the prebuilt native module is used (${native?.msg} ${native?.path ?? native?.reason ?? ''})`,
  );
  const mqtt = lines.find((l) => l.msg === 'listening' && l.protocol === 'mqtt');
  const admin = lines.find((l) => l.msg === 'listening' && l.protocol === 'admin');
  check((await mqttConnect(mqtt.port)) === 0, 'an MQTT 3.1.1 client gets CONNACK 0');
  const token = readFileSync(path.join(app, 'data', 'admin-token'), 'utf8').trim();
  const base = `http://127.0.0.1:${admin.port}`;
  const health = await fetch(`${base}/healthz`);
  check(health.status === 200, 'GET /healthz answers 200 (uWebSockets.js native HTTP)');
  const page = await fetch(`${base}/`);
  check(page.status === 200 && (await page.text()).includes('dashboard.js'), 'the dashboard page is served from the package');
  const stats = await fetch(`${base}/api/v1/stats`, { headers: { authorization: `Bearer ${token}` } });
  check(stats.status === 200 && (await stats.json()).version === manifest.version, 'GET /api/v1/stats with the generated token');
  const ctl = execFileSync(bin, ['ctl', '--url', base, '--token-file', path.join(app, 'data', 'admin-token'), 'nodes'], { cwd: app, env, encoding: 'utf8' });
  check(/running/.test(ctl), 'junction ctl nodes reaches it');
  child.kill('SIGTERM');
  const code = await new Promise((resolve) => child.once('exit', resolve));
  check(code === 0, `SIGTERM stops it with exit code 0 (got ${code})`);
} catch (err) {
  failures++;
  console.log(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`package-check: ${passes} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
