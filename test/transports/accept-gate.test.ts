/** --max-accept-rate: a listener paces its accepts, keeps waiting connections, and stops for good on close. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { listenTcp, type BoundServer } from '../../src/transports/tcp.js';
import type { AcceptPacing, DescriptorOps } from '../../src/transports/accept-gate.js';
import type { LinkHandler } from '../../src/transports/link.js';
import { loadNative } from '../../src/native/binding.js';
import { Logger } from '../../src/log/logger.js';

// CI builds the addon (JUNCTION_REQUIRE_NATIVE=1); without it these tests say so and fail.
const native = loadNative('on');

function pacing(ratePerSecond: number, descriptors: DescriptorOps | null, lines: string[] = []): AcceptPacing {
  const log = new Logger({ level: 'warn', destination: { write: (line: string) => lines.push(line) } });
  return { ratePerSecond, backlog: 511, descriptors, log };
}

/** A listener whose links answer every chunk with "ok" (so a client knows it was accepted). */
async function echoServer(p: AcceptPacing): Promise<{ server: BoundServer; accepted: () => number }> {
  let accepted = 0;
  const server = await listenTcp({ host: '127.0.0.1', port: 0, maxConnections: 10_000, pacing: p }, (link) => {
    accepted++;
    const handler: LinkHandler = { onData: () => void link.write(Buffer.from('ok')), onDrain: () => {}, onClose: () => {} };
    return handler;
  });
  return { server, accepted: () => accepted };
}

/** Opens `n` connections at once; resolves with how each ended ('ok' when the server answered). */
function burst(port: number, n: number): Promise<string[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<string>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => s.write('hi'));
          s.once('data', () => {
            s.destroy();
            resolve('ok');
          });
          s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
          s.setTimeout(10_000, () => {
            s.destroy();
            resolve('timeout');
          });
        }),
    ),
  );
}

test('with the native module, a burst above the rate is accepted in full, no faster than the rate', async () => {
  const lines: string[] = [];
  const { server, accepted } = await echoServer(pacing(100, native, lines));
  try {
    const t0 = performance.now();
    const outcomes = await burst(server.port, 60);
    const elapsed = performance.now() - t0;
    assert.deepEqual(
      outcomes.filter((o) => o !== 'ok'),
      [],
      'connections waiting while the listener paused stay in the backlog and are served later',
    );
    assert.equal(accepted(), 60);
    // 60 at 100/s with a bucket of 1: the last one cannot be accepted before ~590 ms.
    assert.ok(elapsed >= 500, `60 connections at --max-accept-rate 100 took ${elapsed.toFixed(0)} ms (expected >= 500)`);
    const notice = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'accept rate above --max-accept-rate: listener pausing');
    assert.ok(notice, `a pause is logged; got ${lines.join('')}`);
    assert.equal(notice['backlog'], 'kept');
  } finally {
    server.close();
  }
});

test('without the native module the listener re-binds its port after a pause and accepts again', async () => {
  const { server, accepted } = await echoServer(pacing(100, null));
  try {
    await burst(server.port, 20); // some refused while paused: the documented fallback
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await burst(server.port, 1), ['ok'], 'a connection after the pause is accepted');
    assert.ok(accepted() >= 2);
  } finally {
    server.close();
  }
});

test('close() during a pause stops the listener for good', async () => {
  for (const descriptors of [native, null]) {
    const { server } = await echoServer(pacing(10, descriptors));
    await burst(server.port, 3); // pauses after the first (bucket of 1 at 10/s)
    server.close();
    await new Promise((r) => setTimeout(r, 200)); // past the 100 ms resume
    const outcome = await burst(server.port, 1);
    assert.notDeepEqual(outcome, ['ok'], `no connection is accepted after close (descriptors: ${descriptors === null ? 'none' : 'native'})`);
  }
});
