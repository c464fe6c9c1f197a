/**
 * Memory per idle connection: RSS of a broker child process (from /proc/<pid>/status) before
 * and after N clients connect over WebSocket (uWebSockets.js), secure WebSocket (the node:tls
 * front piped to uWS) and plain TCP for comparison. Each client sends CONNECT (keep-alive 0)
 * and waits for CONNACK, then stays idle. Certificates for wss are made with openssl.
 *
 *   npx tsc -p tsconfig.json && npx tsc -p tsconfig.test.json && node build/bench/ws-connections.bench.js [N] [ws,wss,tcp]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

type Transport = 'ws' | 'wss' | 'tcp';

const N = Number(process.argv[2] ?? 5000);
const TRANSPORTS = (process.argv[3] ?? 'ws,wss,tcp').split(',') as Transport[];
const WARMUP = 200;
const BATCH = 200;
const root = fileURLToPath(new URL('../../', import.meta.url));

/** CONNECT, MQTT 3.1.1, clean session, keep-alive 0, the given client id. */
function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0, id.length >> 8, id.length & 0xff]), id]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A self-signed server certificate for 127.0.0.1 in `dir`. */
function makeCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], {
    stdio: 'ignore',
  });
  return { cert, key };
}

async function spawnBroker(dataDir: string, transport: Transport, tls: { cert: string; key: string }): Promise<{ child: ChildProcess; port: number }> {
  const listener = transport === 'ws' ? ['--ws-port', '0'] : transport === 'wss' ? ['--wss-port', '0', '--tls-cert', tls.cert, '--tls-key', tls.key] : [];
  const child = spawn(process.execPath, ['dist/src/cli/main.js', 'start', '--mqtt-port', '0', ...listener, '--store', 'memory', '--data-dir', dataDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ports = new Map<string, number>();
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.includes('"listening"')) continue;
      const parsed = JSON.parse(line) as { transport: string; port: number };
      ports.set(parsed.transport, parsed.port);
    }
  });
  const until = Date.now() + 10_000;
  while (!ports.has(transport)) {
    if (Date.now() > until) throw new Error('the broker did not start');
    await sleep(20);
  }
  return { child, port: ports.get(transport)! };
}

function wsClient(url: string, clientId: string): Promise<WebSocket> {
  const ws = new WebSocket(url, ['mqtt'], { perMessageDeflate: false, rejectUnauthorized: false });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(connectPacket(clientId)));
    ws.once('message', () => resolve(ws));
  });
}

function tcpClient(port: number, clientId: string): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => socket.write(connectPacket(clientId)));
    socket.once('data', () => resolve(socket));
  });
}

async function measure(label: string, pid: number, open: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await open(-1 - i);
  await sleep(1500);
  const before = rssKiB(pid);
  for (let i = 0; i < N; i += BATCH) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) batch.push(open(j));
    await Promise.all(batch);
  }
  await sleep(3000);
  const after = rssKiB(pid);
  const perConnection = ((after - before) * 1024) / N;
  console.log(`${label.padEnd(10)} ${N} idle connections: RSS ${before} -> ${after} KiB, ${(perConnection / 1024).toFixed(2)} KiB per connection`);
  return perConnection;
}

const dataDir = mkdtempSync(join(tmpdir(), 'junction-bench-'));
const tls = makeCert(dataDir);
const clients: Array<{ close(): void }> = [];
for (const transport of TRANSPORTS) {
  const broker = await spawnBroker(dataDir, transport, tls);
  const pid = broker.child.pid!;
  await measure(transport, pid, async (i) => {
    const id = `${transport}-${i}`;
    if (transport === 'tcp') {
      const socket = await tcpClient(broker.port, id);
      clients.push({ close: () => socket.destroy() });
    } else {
      const ws = await wsClient(`${transport}://127.0.0.1:${broker.port}/mqtt`, id);
      clients.push({ close: () => ws.terminate() });
    }
  });
  for (const c of clients.splice(0)) c.close();
  broker.child.kill('SIGKILL');
  await sleep(300);
}
rmSync(dataDir, { recursive: true, force: true });
