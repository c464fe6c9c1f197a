/** A TLS-only broker: --mqtt-port off with --mqtts-port, against a real broker process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, repoRoot, waitFor } from '../interop/harness.js';
import { makeCerts, startRefused } from './helpers.js';

test('--mqtt-port off with --mqtts-port: clients connect over TLS and no plaintext listener opens', async (t) => {
  const certs = makeCerts();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'junction-tls-only-'));
  const lines: Array<Record<string, unknown>> = [];
  let child: ChildProcess | undefined;
  t.after(() => {
    child?.kill('SIGKILL');
    certs.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });
  child = spawn(process.execPath, ['dist/src/cli/main.js', 'start', '--mqtt-port', 'off', '--mqtts-port', '0', '--tls-cert', certs.cert, '--tls-key', certs.key, '--data-dir', dataDir], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  await waitFor(() => lines.some((l) => l['msg'] === 'ready'), 10_000, `the broker's ready line (got ${JSON.stringify(lines.slice(-3))})`);
  const listeners = lines.filter((l) => l['msg'] === 'listening').map((l) => `${l['protocol']}/${l['transport']}`);
  assert.deepEqual(listeners, ['mqtt/tls']);
  const tlsPort = Number(lines.find((l) => l['msg'] === 'listening')!['port']);

  const client = await connect(t, `mqtts://127.0.0.1:${tlsPort}`, { ca: readFileSync(certs.ca) });
  await client.subscribeAsync('tls-only/t', { qos: 1 });
  const got = new Promise<string>((resolve) => client.once('message', (_topic, payload) => resolve(payload.toString())));
  await client.publishAsync('tls-only/t', 'over tls', { qos: 1 });
  assert.equal(await got, 'over tls');

  // The broker listens on the TLS port alone: not on 1883 nor any other plaintext port. (Its own
  // sockets, read from /proc: another process on this machine may well hold 1883.)
  const sockets = readFileSync('/proc/net/tcp', 'utf8') + readFileSync('/proc/net/tcp6', 'utf8');
  const ownPorts = listeningPortsOf(child.pid!, sockets);
  assert.deepEqual(ownPorts, [tlsPort]);
  assert.ok(!ownPorts.includes(1883));
});

test('every client listener off is refused at start, naming the flags', async () => {
  const exit = await startRefused(['--mqtt-port', 'off']);
  assert.equal(exit.code, 2, exit.stderr);
  assert.match(exit.stderr, /no client listener: every port is off; give one of --mqtt-port, --mqtts-port/);
});

/** The TCP ports the process `pid` listens on (from /proc: its socket inodes in state LISTEN). */
function listeningPortsOf(pid: number, procNetTcp: string): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const line of procNetTcp.split('\n')) {
    const f = line.trim().split(/\s+/);
    // local_address is f[1] (hex ip:port), st is f[3] (0A = LISTEN), inode is f[9].
    if (f[3] === '0A' && inodes.has(f[9] ?? '')) ports.push(Number.parseInt(f[1]!.split(':')[1]!, 16));
  }
  return ports.sort((a, b) => a - b);
}
