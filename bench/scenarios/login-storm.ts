/**
 * Login storm: --devices devices with password-file credentials (scrypt, as `junction passwd`
 * writes them) log in to a real broker, disconnect, and log in again. Reports the rate of first
 * logins (each one a scrypt check on the hashing pool) and of cached re-logins (the login cache
 * answers), against a baseline measured in the same run: the same logins to a broker without
 * authentication (best of --rounds rounds, like the cached re-logins). Each login is a fresh TCP connection: CONNECT (3.1.1, username and password),
 * CONNACK, DISCONNECT, made by --client-threads worker threads (login-storm-worker.ts); source
 * addresses rotate over 127.0.0.1-8 so ports do not run out.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes, scryptSync } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlagDef } from '../../src/config/flags.js';
import { startJunction, type BrokerProcess } from '../lib/broker-process.js';
import { parseToolArgs, type ToolSpec } from '../lib/tool-cli.js';
import type { StormProgress, StormSlice } from './login-storm-worker.js';

interface LoginStormOptions {
  devices: number;
  concurrency: number;
  firstConcurrency: number;
  rounds: number;
  clientThreads: number;
  scryptN: number;
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
  {
    group: 'Run',
    name: 'client-threads',
    key: 'clientThreads',
    kind: 'int',
    default: 1,
    min: 1,
    max: 64,
    help: 'client threads sharing the logins (raise it on a machine with cores to spare: one Node thread makes a few thousand connections a second at most)',
  },
  {
    group: 'Run',
    name: 'scrypt-n',
    key: 'scryptN',
    kind: 'int',
    default: 16_384,
    min: 2,
    max: 1_048_576,
    help: 'scrypt cost N of the password file (16384 is what junction passwd writes); a smaller one only makes first logins faster, the cached re-logins never hash',
  },
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
const PASSWORD = 'storm-pw';
/** Logs every device in once over the client threads, printing progress each second; returns logins per second. */
async function wave(name: string, port: number, credentials: boolean, concurrency = options.concurrency): Promise<number> {
  const threads = Math.min(options.clientThreads, N);
  const done = new Array<number>(threads).fill(0);
  let refused = 0;
  const started = performance.now();
  const total = (): number => done.reduce((a, b) => a + b, 0);
  const progress = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    process.stdout.write(`  ${name}: ${total()}/${N} in ${s.toFixed(1)} s (${Math.round(total() / s)}/s)\n`);
  }, 1000);
  const per = Math.ceil(N / threads);
  const results = Array.from({ length: threads }, (_, t) => {
    const slice: StormSlice = { port, from: t * per, to: Math.min(N, (t + 1) * per), concurrency: Math.max(1, Math.round(concurrency / threads)), credentials, password: PASSWORD };
    const worker = new Worker(new URL('./login-storm-worker.js', import.meta.url), { workerData: slice });
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: StormProgress) => {
        done[t] = m.done;
        if (!m.final) return;
        refused += m.refused;
        if (m.error !== undefined) reject(new Error(`${name}: ${m.error}`));
        else resolve();
      });
      worker.on('error', reject);
    });
  });
  try {
    await Promise.all(results);
  } finally {
    clearInterval(progress);
  }
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
  // One hash for every device (made once, in junction passwd's format): each first login still
  // pays a full scrypt check, and the cache keys differ by username.
  const salt = randomBytes(16);
  const key = scryptSync(PASSWORD, salt, 64, { N: options.scryptN, r: 8, p: 1, maxmem: 256 * options.scryptN * 8 + 1024 * 1024 });
  const hash = `$scrypt$N=${options.scryptN},r=8,p=1$${salt.toString('base64')}$${key.toString('base64')}`;
  const lines: string[] = [];
  for (let i = 0; i < N; i++) lines.push(`dev${i}:${hash}\n`);
  const file = join(dir, 'passwords');
  writeFileSync(file, lines.join(''));

  process.stdout.write(
    `login storm: ${N} devices, scrypt N=${options.scryptN}, ${options.firstConcurrency} first logins and ${options.concurrency} re-logins in flight over ${options.clientThreads} client threads\n`,
  );
  // The baseline gets as many rounds as the cached re-logins, best round kept: the first round of
  // a fresh broker also pays for warming up.
  const baseline = await withBroker(['--allow-anonymous'], async (b) => {
    let best = 0;
    for (let r = 1; r <= options.rounds; r++) best = Math.max(best, await wave(`baseline (no authentication), round ${r}`, b.port, false));
    return best;
  });
  const { first, cached } = await withBroker(['--password-file', file], async (b) => {
    const first = await wave('first login (scrypt)', b.port, true, options.firstConcurrency);
    let best = 0;
    for (let r = 1; r <= options.rounds; r++) best = Math.max(best, await wave(`cached re-login, round ${r}`, b.port, true));
    return { first, cached: best };
  });
  process.stdout.write(
    `\nfirst logins ${Math.round(first)}/s, cached re-logins ${Math.round(cached)}/s (best round), baseline without authentication ${Math.round(baseline)}/s (best round): cached = ${((cached / baseline) * 100).toFixed(0)}% of baseline, ${(cached / first).toFixed(0)}x first logins\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
