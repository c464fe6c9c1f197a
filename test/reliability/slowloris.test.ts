/**
 * Half-open and slowloris connections: a socket that never sends CONNECT, or trickles one byte
 * at a time, is closed at --connect-timeout; trickling must not extend it, and other clients
 * connect meanwhile.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brokerFor, connect, closeClient, sleep } from '../interop/harness.js';
import { connectPacket } from '../interop/wire.js';
import { closedWithin, openSocket } from './helpers.js';

// The timer wheel files deadlines in 250 ms slots: allow a slot plus scheduling slack.
const SLACK_MS = 1500;

test('100 connections that never send CONNECT are all closed at --connect-timeout 1 while a real client connects', async (t) => {
  const broker = await brokerFor(t, { args: ['--connect-timeout', '1'] });
  const t0 = Date.now();
  const sockets = await Promise.all(Array.from({ length: 100 }, () => openSocket(broker.port)));
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  const client = await connect(t, broker.url);
  assert.ok(client.connected, 'a well-behaved client connects while 100 idle sockets are open');
  const closes = await Promise.all(sockets.map((s, i) => closedWithin(s, 1000 + SLACK_MS, `idle socket ${i} (no CONNECT)`)));
  const earliest = Math.min(...closes) - t0;
  assert.ok(earliest >= 900, `idle sockets were closed after ${earliest} ms, before the 1 s connect timeout`);
  assert.ok(client.connected, 'the well-behaved client is still connected after the idle sockets were closed');
  await closeClient(client);
});

test('a CONNECT trickled one byte every 150 ms is cut off at --connect-timeout, not extended by each byte', async (t) => {
  const broker = await brokerFor(t, { args: ['--connect-timeout', '1'] });
  const packet = connectPacket({ clientId: 'slowloris-client-with-a-long-id', keepalive: 60 });
  assert.ok(packet.length * 150 > 1000 + SLACK_MS, 'the trickle must last longer than the timeout plus slack');
  const s = await openSocket(broker.port);
  t.after(() => s.destroy());
  let received = 0;
  s.on('data', (d: Buffer) => (received += d.length));
  const t0 = Date.now();
  let sent = 0;
  const trickle = (async () => {
    for (const byte of packet) {
      if (s.destroyed) return;
      s.write(Buffer.of(byte));
      sent++;
      await sleep(150);
    }
  })();
  await closedWithin(s, 1000 + SLACK_MS, `socket trickling CONNECT (${sent} of ${packet.length} bytes sent)`);
  const elapsed = Date.now() - t0;
  await trickle;
  assert.ok(sent < packet.length, `the whole CONNECT (${packet.length} bytes) went through before the close`);
  assert.equal(received, 0, 'no CONNACK may be sent for a CONNECT that never completed');
  assert.ok(elapsed >= 900, `closed after ${elapsed} ms, before the timeout`);
});

test('a CONNECT whose header arrives on time but whose body stalls is closed at --connect-timeout', async (t) => {
  const broker = await brokerFor(t, { args: ['--connect-timeout', '1'] });
  const packet = connectPacket({ clientId: 'stalled' });
  const s = await openSocket(broker.port);
  t.after(() => s.destroy());
  s.write(packet.subarray(0, 5));
  await closedWithin(s, 1000 + SLACK_MS, 'socket with a half-sent CONNECT');
});
