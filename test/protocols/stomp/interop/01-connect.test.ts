/** CONNECT/STOMP, version negotiation, heart-beats, the connect gate, authentication, listeners. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBroker } from '../../../interop/harness.js';
import { RawStomp, frame, stompBroker, waitFor } from '../helpers.js';

test('version negotiation: highest common version, 1.0 without accept-version, ERROR with version when none', async (t) => {
  const { port } = await stompBroker(t);
  const a = await RawStomp.open(t, port);
  a.send(frame('STOMP', { 'accept-version': '1.0,1.1', host: 'h' }));
  const connected = await a.next('CONNECTED');
  assert.equal(connected.header('version'), '1.1');
  assert.equal(connected.header('server'), 'Junction/0.1.0');

  const b = await RawStomp.open(t, port);
  b.send(frame('CONNECT', {}));
  assert.equal((await b.next('CONNECTED')).header('version'), '1.0');

  const c = await RawStomp.open(t, port);
  c.send(frame('CONNECT', { 'accept-version': '2.0,3.0', host: 'h' }));
  const error = await c.next('ERROR');
  assert.equal(error.header('version'), '1.0,1.1,1.2');
  assert.match(error.header('message') ?? '', /no common STOMP version/);
  await c.closedWithin(2000);
});

test('a frame before CONNECT gets ERROR and the connection closes', async (t) => {
  const { port } = await stompBroker(t);
  const c = await RawStomp.open(t, port);
  c.send(frame('SEND', { destination: 'a' }, 'x'));
  assert.match((await c.next('ERROR')).header('message') ?? '', /expected CONNECT or STOMP as the first frame, got SEND/);
  await c.closedWithin(2000);
});

test('heart-beats: the server beats at the agreed rate and closes a silent peer', async (t) => {
  const { port } = await stompBroker(t, ['--stomp-heartbeat-out', '300', '--stomp-heartbeat-in', '400']);
  // The client wants beats every 300 ms and sends none.
  const listener = await RawStomp.open(t, port);
  listener.send(frame('CONNECT', { 'accept-version': '1.2', host: 'h', 'heart-beat': '0,300' }));
  assert.equal((await listener.next('CONNECTED')).header('heart-beat'), '300,400');
  await waitFor(() => listener.beats >= 3, 3000, 'three heart-beats from the server');
  assert.equal(listener.closed, false, 'a client that asked for no checking is not closed');

  // This client promises a beat every 400 ms, then goes silent: closed after about 600 ms.
  const silent = await RawStomp.open(t, port);
  silent.send(frame('CONNECT', { 'accept-version': '1.2', host: 'h', 'heart-beat': '400,0' }));
  await silent.next('CONNECTED');
  const started = Date.now();
  const error = await silent.next('ERROR', 4000);
  assert.match(error.header('message') ?? '', /heart-beat timeout/);
  await silent.closedWithin(2000);
  assert.ok(Date.now() - started >= 500, 'closed before 1.5x the agreed interval');

  // A peer that keeps beating stays.
  const beating = await RawStomp.open(t, port);
  beating.send(frame('CONNECT', { 'accept-version': '1.2', host: 'h', 'heart-beat': '400,0' }));
  await beating.next('CONNECTED');
  const timer = setInterval(() => beating.send('\n'), 200);
  t.after(() => clearInterval(timer));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(beating.closed, false);
  clearInterval(timer);
});

test('a connection that never sends CONNECT is closed after --connect-timeout', async (t) => {
  const { port } = await stompBroker(t, ['--connect-timeout', '1']);
  const c = await RawStomp.open(t, port);
  assert.match((await c.next('ERROR', 3000)).header('message') ?? '', /no CONNECT frame within 1 s/);
  await c.closedWithin(1000);
});

test('login goes through the broker authentication: refused clients get ERROR', async (t) => {
  // Not on loopback and no --allow-anonymous: the mosquitto 2 policy refuses everyone.
  const { port } = await stompBroker(t, ['--host', '0.0.0.0']);
  const c = await RawStomp.open(t, port);
  c.send(frame('CONNECT', { 'accept-version': '1.2', host: 'h', login: 'user', passcode: 'secret' }));
  assert.match((await c.next('ERROR')).header('message') ?? '', /login failed/);
  await c.closedWithin(2000);
});

test('--stomps-port without TLS certificates stops the start with a message naming the flags', async () => {
  const result = await runBroker(['start', '--mqtt-port', '0', '--store', 'memory', '--stomps-port', '0']);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /--stomps-port needs --tls-cert and --tls-key/);
});

test('a STOMP port that cannot be bound stops the start naming --stomp-port', async (t) => {
  const { port } = await stompBroker(t);
  const result = await runBroker(['start', '--mqtt-port', '0', '--store', 'memory', '--stomp-port', String(port)]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, new RegExp(`--stomp-port ${port}: cannot listen on 127\\.0\\.0\\.1:${port} \\(the port is in use\\)`));
});
