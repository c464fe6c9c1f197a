/** Malformed and oversized frames: ERROR naming what was wrong, close, memory bounded, others untouched. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawStomp, frame, stompBroker } from '../helpers.js';

test('an oversized frame gets ERROR naming the limit; other clients carry on', async (t) => {
  const { port } = await stompBroker(t, ['--stomp-max-body', '1KiB', '--stomp-max-headers', '4', '--stomp-max-header-length', '100']);
  const bystander = await RawStomp.connect(t, port);
  await bystander.request('SUBSCRIBE', { id: 's', destination: 'ok' });

  const cases: Array<[Buffer, RegExp]> = [
    [frame('SEND', { destination: 'a', 'content-length': '5000' }), /content-length of 5000 bytes exceeds --stomp-max-body of 1024 bytes/],
    [frame('SEND', { destination: 'a', h1: '1', h2: '2', h3: '3', h4: '4' }), /more than 4 headers \(--stomp-max-headers\)/],
    [frame('SEND', { destination: 'a', long: 'x'.repeat(200) }), /header line longer than --stomp-max-header-length of 100 bytes/],
    [frame('SEND', { destination: 'a', bad: 'a\\qb' }), /undefined escape sequence '\\q'/],
    [frame('SEND', {}, 'x'), /SEND frame without the required 'destination' header/],
    [frame('SEND', { destination: 'a/#' }, 'x'), /destination 'a\/#' is not a topic/],
    [frame('SUBSCRIBE', { id: '1', destination: 'a', ack: 'sometimes' }), /ack 'sometimes' is not one of auto, client, client-individual/],
    [frame('CONNECT', {}), /CONNECT is not allowed once connected/],
    [Buffer.from('HELLO\n\n\0'), /unknown command 'HELLO'/],
  ];
  for (const [bytes, expected] of cases) {
    const c = await RawStomp.connect(t, port);
    c.send(bytes);
    const error = await c.next('ERROR');
    assert.match(error.header('message') ?? '', expected);
    await c.closedWithin(2000);
  }
  const pub = await RawStomp.connect(t, port);
  await pub.request('SEND', { destination: 'ok' }, 'still here');
  assert.equal((await bystander.next('MESSAGE')).body.toString(), 'still here');
});

test('a body streamed without NUL is cut off at the limit, not buffered', async (t) => {
  const { port } = await stompBroker(t, ['--stomp-max-body', '64KiB']);
  const c = await RawStomp.connect(t, port);
  c.send('SEND\ndestination:a\n\n');
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  let sent = 0;
  while (!c.closed && c.frames.length === 0 && sent < 4 * 1024 * 1024) {
    c.send(chunk);
    sent += chunk.length;
    // A pause per chunk, not a bare turn: 256 chunks then take half a second at least, so a busy
    // machine's server still answers well before 4 MiB, and one that buffers the body never does.
    await new Promise((r) => setTimeout(r, 2));
  }
  const error = await c.next('ERROR');
  assert.match(error.header('message') ?? '', /SEND body exceeds --stomp-max-body of 65536 bytes/);
  assert.ok(sent < 4 * 1024 * 1024, 'the server kept reading far past the limit');
});

test('an ERROR answers the receipt of the frame that caused it', async (t) => {
  const { port } = await stompBroker(t);
  const c = await RawStomp.connect(t, port);
  c.send(frame('SUBSCRIBE', { destination: 'x', receipt: 'sub-1' }));
  const error = await c.next('ERROR');
  assert.equal(error.header('receipt-id'), 'sub-1');
  assert.match(error.header('message') ?? '', /SUBSCRIBE frame without the required 'id' header/);
});
