/**
 * --tcp-transport native: sockets owned by the Rust module (src/transports/native-tcp.ts). The
 * interop, protocol and reliability suites run over it too (JUNCTION_TEST_TCP_TRANSPORT=native);
 * these tests cover what only this transport does: links made at the first bytes, writes kept
 * natively until the socket drains, the native accept gate, the descriptor limit, SO_REUSEPORT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { listenNativeTcp } from '../../src/transports/native-tcp.js';
import type { AcceptPacing } from '../../src/transports/accept-gate.js';
import type { BoundServer } from '../../src/transports/tcp.js';
import type { Link, LinkHandler } from '../../src/transports/link.js';
import { loadNative } from '../../src/native/binding.js';
import { Logger } from '../../src/log/logger.js';
import { BrokerProcess } from '../../bench/lib/broker-process.js';
import { junctionCli, repoRoot } from '../../bench/lib/repo.js';

// CI builds the addon (JUNCTION_REQUIRE_NATIVE=1); without it these tests say so and fail.
const native = loadNative('on')!;

function pacing(ratePerSecond: number, lines: string[] = []): AcceptPacing {
  const log = new Logger({ level: 'warn', destination: { write: (line: string) => lines.push(line) } });
  return { ratePerSecond, backlog: 511, descriptors: native, log };
}

interface Accepted {
  link: Link;
  chunks: Buffer[];
  closed: boolean | null;
  drains: number;
}

/** A native listener recording what each link saw; `answer` runs on each chunk. */
async function listener(p: AcceptPacing, answer: (a: Accepted, chunk: Buffer) => void = () => {}): Promise<{ server: BoundServer; links: Accepted[] }> {
  const links: Accepted[] = [];
  const server = await listenNativeTcp(native, { host: '127.0.0.1', port: 0, maxConnections: 10_000, pacing: p, reusePort: false, refused: null }, (link) => {
    const a: Accepted = { link, chunks: [], closed: null, drains: 0 };
    links.push(a);
    const handler: LinkHandler = {
      onData: (chunk) => {
        a.chunks.push(Buffer.from(chunk));
        answer(a, chunk);
      },
      onDrain: () => void a.drains++,
      onClose: (hadError) => void (a.closed = hadError),
    };
    return handler;
  });
  return { server, links };
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function connected(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

test('a link is made at the first bytes, answers through the turn flush, and hears the close', async () => {
  const { server, links } = await listener(pacing(0), (a, chunk) => {
    a.link.write(Buffer.from('echo:'));
    a.link.write(Buffer.from(chunk));
  });
  try {
    const s = await connected(server.port);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(links.length, 0, 'no link while the connection is silent');
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.write('hello');
    await until(() => Buffer.concat(got).toString() === 'echo:hello', 'the echo');
    assert.equal(links.length, 1);
    assert.equal(links[0]!.link.remoteAddress, '127.0.0.1');
    assert.equal(links[0]!.link.remotePort, s.localPort);
    s.end();
    await until(() => links[0]!.closed !== null, 'the close');
    assert.equal(links[0]!.closed, false, 'a clean close has no error');
    assert.equal(links[0]!.link.remoteAddress, '127.0.0.1', 'the peer is still known after the close');
  } finally {
    server.close();
  }
});

test('what a client does not read stays native, counts in bufferedAmount, and drains in order', async () => {
  const big = Buffer.alloc(16 << 20);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  let accepted = false;
  const { server, links } = await listener(pacing(0), (a) => {
    accepted = a.link.write(big);
  });
  try {
    const s = await connected(server.port);
    s.pause();
    s.write('go');
    await until(() => links.length === 1 && links[0]!.link.bufferedAmount < big.length && links[0]!.link.bufferedAmount > 0, 'a partial write');
    assert.equal(accepted, false, 'write() says the buffer is above its high-water mark');
    const got: Buffer[] = [];
    let n = 0;
    s.on('data', (d: Buffer) => {
      got.push(d);
      n += d.length;
    });
    s.resume();
    await until(() => n === big.length && links[0]!.drains === 1, 'every byte and one drain', 20_000);
    assert.ok(Buffer.concat(got).equals(big), 'the bytes arrive in order');
    assert.equal(links[0]!.link.bufferedAmount, 0);
    s.destroy();
  } finally {
    server.close();
  }
});

test('end() sends what was written, then FIN; destroy() closes at once and onClose follows', async () => {
  const { server, links } = await listener(pacing(0), (a, chunk) => {
    if (chunk.toString() === 'end') {
      a.link.write(Buffer.from('bye'));
      a.link.end();
      a.link.write(Buffer.from('too late'));
    } else a.link.destroy();
  });
  try {
    const ending = await connected(server.port);
    const got: Buffer[] = [];
    ending.on('data', (d: Buffer) => got.push(d));
    const ended = new Promise<void>((r) => ending.once('end', r));
    ending.write('end');
    await ended;
    assert.equal(Buffer.concat(got).toString(), 'bye');
    ending.end();
    await until(() => links[0]?.closed === false, 'the ended link closes once the peer closes');

    const destroyed = await connected(server.port);
    const gone = new Promise<void>((r) => destroyed.once('close', () => r()));
    destroyed.on('error', () => {});
    destroyed.write('x');
    await gone;
    await until(() => links[1]?.closed === false, 'onClose after destroy()');
  } finally {
    server.close();
  }
});

test('a connection silent for a second gets its link, with how long it was silent', async () => {
  const { server, links } = await listener(pacing(0));
  try {
    const s = await connected(server.port);
    await until(() => links.length === 1, 'the silent connection handed over', 4000);
    assert.ok((links[0]!.link.silentForMs ?? 0) >= 1000, `silent for ${links[0]!.link.silentForMs} ms`);
    assert.deepEqual(links[0]!.chunks, []);
    s.destroy();
  } finally {
    server.close();
  }
});

test('a burst above --max-accept-rate is accepted in full, no faster than the rate, and the pause is logged', async () => {
  const lines: string[] = [];
  const { server, links } = await listener(pacing(100, lines), (a) => void a.link.write(Buffer.from('ok')));
  try {
    const t0 = performance.now();
    const outcomes = await Promise.all(
      Array.from(
        { length: 60 },
        () =>
          new Promise<string>((resolve) => {
            const s = net.connect(server.port, '127.0.0.1', () => s.write('hi'));
            s.once('data', () => {
              s.destroy();
              resolve('ok');
            });
            s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
          }),
      ),
    );
    const elapsed = performance.now() - t0;
    assert.deepEqual(
      outcomes.filter((o) => o !== 'ok'),
      [],
      'connections waiting while the listener paused are served later',
    );
    assert.equal(links.length, 60);
    assert.ok(elapsed >= 500, `60 connections at --max-accept-rate 100 took ${elapsed.toFixed(0)} ms (expected >= 500)`);
    const notice = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'accept rate above --max-accept-rate: listener pausing');
    assert.ok(notice, `a pause is logged; got ${lines.join('')}`);
  } finally {
    server.close();
  }
});

/** Starts `junction start` under `ulimit -n <limit>`; resolves with its process and port once ready. */
async function brokerUnderLimit(t: { after: (fn: () => void) => void }, limit: number): Promise<{ port: number; logs: Record<string, unknown>[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-emfile-'));
  const args = [junctionCli(), 'start', '--mqtt-port', '0', '--data-dir', dir, '--store', 'memory', '--tcp-transport', 'native'];
  const child = spawn('bash', ['-c', `ulimit -n ${limit} && exec "$0" "$@"`, process.execPath, ...args], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const logs: Record<string, unknown>[] = [];
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) logs.push(JSON.parse(l) as Record<string, unknown>);
  });
  await until(() => logs.some((l) => l['msg'] === 'ready'), 'the broker to start', 10_000);
  const line = logs.find((l) => l['msg'] === 'listening' && l['protocol'] === 'mqtt');
  return { port: Number(line!['port']), logs };
}

const CONNECT = Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00]);

/** Connects and sends a CONNECT; resolves true once a CONNACK arrives (false when closed or after 3 s). */
function mqttConnects(port: number, keep: net.Socket[]): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(CONNECT));
    keep.push(s);
    const timer = setTimeout(() => resolve(false), 3000);
    s.once('data', () => {
      clearTimeout(timer);
      resolve(true);
    });
    s.once('close', () => resolve(false));
    s.on('error', () => {});
  });
}

test('out of descriptors (EMFILE) the native listener stops accepting, logs, and accepts again once some are free', async (t) => {
  // 128 descriptors: the broker's own files (about 25) leave room for about a hundred sockets.
  const { port, logs } = await brokerUnderLimit(t, 128);
  const held: net.Socket[] = [];
  const outcomes = await Promise.all(Array.from({ length: 140 }, () => mqttConnects(port, held)));
  assert.ok(
    outcomes.some((ok) => ok),
    'some connections got in',
  );
  await until(() => logs.some((l) => l['msg'] === 'listener error (accepting goes on)' && /EMFILE/.test(String(l['error']))), 'the EMFILE warning');
  for (const s of held) s.destroy();
  await new Promise((r) => setTimeout(r, 1500)); // the listener retries every second
  const again: net.Socket[] = [];
  assert.equal(await mqttConnects(port, again), true, 'a client connects once descriptors are free');
  for (const s of again) s.destroy();
});

test('--tcp-reuse-port lets two brokers accept on one port; without the native transport it is refused', async (t) => {
  const dirs = [0, 1].map(() => mkdtempSync(path.join(os.tmpdir(), 'junction-reuseport-')));
  const brokers = dirs.map((dir) => new BrokerProcess(dir, { args: ['--store', 'memory', '--tcp-transport', 'native', '--tcp-reuse-port'] }));
  t.after(async () => {
    for (const b of brokers) await b.stop().catch(() => null);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  await brokers[0]!.startJunction(0);
  await brokers[1]!.startJunction(brokers[0]!.port);
  assert.equal(brokers[1]!.port, brokers[0]!.port);
  const held: net.Socket[] = [];
  assert.deepEqual(await Promise.all(Array.from({ length: 8 }, () => mqttConnects(brokers[0]!.port, held))), Array(8).fill(true));
  for (const s of held) s.destroy();

  const refused = spawn(process.execPath, [junctionCli(), 'start', '--mqtt-port', '0', '--store', 'memory', '--tcp-reuse-port', '--tcp-transport', 'node'], { cwd: repoRoot() });
  let stderr = '';
  refused.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => refused.once('exit', r));
  assert.notEqual(code, 0);
  assert.match(stderr, /--tcp-reuse-port needs the native TCP transport/);
});
