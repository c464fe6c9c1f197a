/**
 * Memory per idle connection: RSS of a broker child process (from /proc/<pid>/status) before
 * and after N clients connect over WebSocket (the node:net front that checks masks, piped to
 * uWebSockets.js), WebSocket served by uWS directly (--ws-check-masks false), secure WebSocket
 * (the node:tls front piped to uWS) and plain TCP for comparison. Each client sends CONNECT (keep-alive 0)
 * and waits for CONNACK, then stays idle. Certificates for wss are made with openssl.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { FlagDef } from '../../src/config/flags.js';
import { rssOf } from '../load/proc-stats.js';
import { startJunction, type BrokerProcess } from '../lib/broker-process.js';
import { parseToolArgs, wordList, type ToolSpec } from '../lib/tool-cli.js';

const TRANSPORT_NAMES = ['ws', 'ws-direct', 'wss', 'tcp'] as const;
type Transport = (typeof TRANSPORT_NAMES)[number];

interface WsConnectionsOptions {
  connections: number;
  transports: string;
}

const FLAGS: readonly FlagDef<keyof WsConnectionsOptions>[] = [
  { group: 'Run', name: 'connections', key: 'connections', kind: 'int', default: 5000, min: 1, max: 1_000_000, help: 'idle connections per transport' },
  { group: 'Run', name: 'transports', key: 'transports', kind: 'string', default: TRANSPORT_NAMES.join(','), valueName: 'LIST', help: `comma-separated transports of ${TRANSPORT_NAMES.join(', ')}` },
];

const SPEC: ToolSpec = {
  command: 'node dist/bench/scenarios/ws-connections.js',
  about: [
    'Memory per idle connection: RSS of a Junction broker (from dist/) before and after --connections clients connect over WebSocket (through the mask-checking front, and directly with --ws-check-masks false), secure WebSocket and plain TCP, one broker per transport.',
  ],
  flags: FLAGS,
  examples: ['node dist/bench/scenarios/ws-connections.js --connections 5000 --transports ws,wss,tcp'],
};

const options = parseToolArgs<WsConnectionsOptions>(SPEC).values;
const N = options.connections;
const TRANSPORTS = wordList(SPEC, 'transports', options.transports, TRANSPORT_NAMES);
const WARMUP = 200;
const BATCH = 200;

/** CONNECT, MQTT 3.1.1, clean session, keep-alive 0, the given client id. */
function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0, id.length >> 8, id.length & 0xff]), id]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
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

/** A broker with a listener for `transport` (TCP is always on), and that listener's port. */
async function startBroker(dataDir: string, transport: Transport, tls: { cert: string; key: string }): Promise<{ broker: BrokerProcess; port: number }> {
  const listeners: Record<Transport, string[]> = {
    ws: ['--ws-port', '0'],
    'ws-direct': ['--ws-port', '0', '--ws-check-masks', 'false'],
    wss: ['--wss-port', '0', '--tls-cert', tls.cert, '--tls-key', tls.key],
    tcp: [],
  };
  const broker = await startJunction({ dataDir, keepDataDir: true, args: [...listeners[transport], '--store', 'memory'] });
  const port = transport === 'tcp' ? broker.port : broker.listeningPort('websocket', transport === 'wss' ? 'wss' : 'ws');
  return { broker, port };
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
  const before = rssOf(pid) / 1024;
  for (let i = 0; i < N; i += BATCH) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) batch.push(open(j));
    await Promise.all(batch);
  }
  await sleep(3000);
  const after = rssOf(pid) / 1024;
  const perConnection = ((after - before) * 1024) / N;
  console.log(`${label.padEnd(10)} ${N} idle connections: RSS ${before} -> ${after} KiB, ${(perConnection / 1024).toFixed(2)} KiB per connection`);
  return perConnection;
}

const dataDir = mkdtempSync(join(tmpdir(), 'junction-bench-'));
const tls = makeCert(dataDir);
const clients: Array<{ close(): void }> = [];
for (const transport of TRANSPORTS) {
  const { broker, port } = await startBroker(dataDir, transport, tls);
  const pid = broker.process.pid!;
  await measure(transport, pid, async (i) => {
    const id = `${transport}-${i}`;
    if (transport === 'tcp') {
      const socket = await tcpClient(port, id);
      clients.push({ close: () => socket.destroy() });
    } else {
      const ws = await wsClient(`${transport === 'wss' ? 'wss' : 'ws'}://127.0.0.1:${port}/mqtt`, id);
      clients.push({ close: () => ws.terminate() });
    }
  });
  for (const c of clients.splice(0)) c.close();
  await broker.dispose();
  await sleep(300);
}
rmSync(dataDir, { recursive: true, force: true });
