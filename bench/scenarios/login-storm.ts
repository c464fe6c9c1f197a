/**
 * Login storm: --devices devices with password-file credentials (scrypt, as `junction passwd`
 * writes them) log in to a real broker, disconnect, and log in again. Reports the rate of first
 * logins (each one a scrypt check on the hashing pool) and of cached re-logins (the login cache
 * answers), against a baseline measured in the same run: the same logins to a broker without
 * authentication. Each login is a fresh TCP connection: CONNECT (3.1.1, username and password),
 * CONNACK, DISCONNECT; source addresses rotate over 127.0.0.1-8 so ports do not run out.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlagDef } from '../../src/config/flags.js';
import { hashPassword } from '../../src/security/password-hash.js';
import { startJunction, type BrokerProcess } from '../lib/broker-process.js';
import { parseToolArgs, type ToolSpec } from '../lib/tool-cli.js';

interface LoginStormOptions {
  devices: number;
  concurrency: number;
  firstConcurrency: number;
  rounds: number;
  brokerArgs: string;
}

const FLAGS: readonly FlagDef<keyof LoginStormOptions>[] = [
  { group: 'Run', name: 'devices', key: 'devices', kind: 'int', default: 10_000, min: 1, max: 1_000_000, help: 'devices in the password file, each logging in once, then again --rounds times' },
  { group: 'Run', name: 'concurrency', key: 'concurrency', kind: 'int', default: 256, min: 1, max: 10_000, help: 'logins in flight at once' },
  {
    group: 'Run',
    name: 'first-concurrency',
    key: 'firstConcurrency',
    kind: 'int',
    default: 32,
    min: 1,
    max: 10_000,
    help: 'first logins in flight at once (each waits for its scrypt check: keep the queue within --connect-timeout)',
  },
  { group: 'Run', name: 'rounds', key: 'rounds', kind: 'int', default: 3, min: 1, max: 100, help: 'cached re-login rounds over every device' },
  { group: 'Run', name: 'broker-args', key: 'brokerArgs', kind: 'string', default: '', valueName: 'FLAGS', help: 'extra flags for junction start, space-separated (e.g. "--auth-hash-threads 4")' },
];

const SPEC: ToolSpec = {
  command: 'node dist/bench/scenarios/login-storm.js',
  about: [
    'First-login and cached re-login rates of --devices devices with password-file (scrypt) credentials against a Junction broker from dist/, and the rate of the same logins to a broker without authentication (the baseline, same run).',
  ],
  flags: FLAGS,
  examples: ['node dist/bench/scenarios/login-storm.js --devices 10000 --rounds 3'],
};

const options = parseToolArgs<LoginStormOptions>(SPEC).values;
const N = options.devices;
const SOURCES = 8;

function mqttString(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

/** CONNECT 3.1.1, clean session, keep-alive 0, with username and password when given. */
function connectPacket(clientId: string, username: string | null, password: string | null): Buffer {
  const flags = 0x02 | (username !== null ? 0x80 : 0) | (password !== null ? 0x40 : 0);
  const parts = [Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, flags, 0, 0]), mqttString(clientId)];
  if (username !== null) parts.push(mqttString(username));
  if (password !== null) parts.push(mqttString(password));
  const body = Buffer.concat(parts);
  const header = [0x10];
  let n = body.length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    header.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from(header), body]);
}

const DISCONNECT = Buffer.from([0xe0, 0]);

/** One login: connect, CONNECT, wait for CONNACK; resolves with its return code, after sending DISCONNECT. */
function login(port: number, i: number, credentials: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${1 + (i % SOURCES)}` });
    let got = Buffer.alloc(0);
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write(connectPacket(`dev${i}`, credentials ? `dev${i}` : null, credentials ? 'storm-pw' : null)));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 4) return;
      socket.end(DISCONNECT);
      resolve(got[3]!);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (got.length < 4) reject(new Error(`dev${i}: connection closed before CONNACK`));
    });
  });
}

/** Logs every device in once, `concurrency` at a time, printing progress each second; returns logins per second. */
async function wave(name: string, port: number, credentials: boolean, concurrency = options.concurrency): Promise<number> {
  let next = 0;
  let done = 0;
  let refused = 0;
  const started = performance.now();
  const progress = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    process.stdout.write(`  ${name}: ${done}/${N} in ${s.toFixed(1)} s (${Math.round(done / s)}/s)\n`);
  }, 1000);
  const worker = async (): Promise<void> => {
    while (next < N) {
      const i = next++;
      const code = await login(port, i, credentials);
      if (code !== 0) refused++;
      done++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, N) }, worker));
  clearInterval(progress);
  const seconds = (performance.now() - started) / 1000;
  if (refused > 0) throw new Error(`${name}: ${refused} logins refused`);
  const rate = N / seconds;
  process.stdout.write(`${name}: ${N} logins in ${seconds.toFixed(2)} s = ${Math.round(rate)}/s\n`);
  return rate;
}

async function withBroker<T>(args: string[], run: (broker: BrokerProcess) => Promise<T>): Promise<T> {
  const extra = options.brokerArgs.split(' ').filter((a) => a !== '');
  const broker = await startJunction({ args: ['--store', 'memory', '--host', '0.0.0.0', ...args, ...extra] });
  try {
    return await run(broker);
  } finally {
    await broker.dispose();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'junction-login-storm-'));
try {
  // One hash for every device (made once, as `junction passwd` would): each login still pays a
  // full scrypt check, and the cache keys differ by username.
  const hash = await hashPassword('storm-pw');
  const lines: string[] = [];
  for (let i = 0; i < N; i++) lines.push(`dev${i}:${hash}\n`);
  const file = join(dir, 'passwords');
  writeFileSync(file, lines.join(''));

  process.stdout.write(`login storm: ${N} devices, ${options.firstConcurrency} first logins and ${options.concurrency} re-logins in flight\n`);
  const baseline = await withBroker(['--allow-anonymous'], (b) => wave('baseline (no authentication)', b.port, false));
  const { first, cached } = await withBroker(['--password-file', file], async (b) => {
    const first = await wave('first login (scrypt)', b.port, true, options.firstConcurrency);
    let best = 0;
    for (let r = 1; r <= options.rounds; r++) best = Math.max(best, await wave(`cached re-login, round ${r}`, b.port, true));
    return { first, cached: best };
  });
  process.stdout.write(
    `\nfirst logins ${Math.round(first)}/s, cached re-logins ${Math.round(cached)}/s (best round), baseline without authentication ${Math.round(baseline)}/s: cached = ${((cached / baseline) * 100).toFixed(0)}% of baseline, ${(cached / first).toFixed(0)}x first logins\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
