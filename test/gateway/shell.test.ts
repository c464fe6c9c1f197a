/**
 * The connection shell every protocol shares, driven over the in-memory kit with STOMP (whose
 * connection has no read loop of its own): fair turns on the read path, and reading stopped
 * while the client does not read what it is sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StompConnection } from '../../src/protocols/stomp/connection.js';
import { stompConfig } from '../../src/protocols/stomp/protocol.js';
import { FrameParser } from '../../src/protocols/stomp/codec/parser.js';
import { Escaping, SERVER_COMMANDS, type StompFrame } from '../../src/protocols/stomp/codec/frame.js';
import type { StompOptions } from '../../src/protocols/stomp/flags.js';
import { START_FLAGS } from '../../src/server/options.js';
import { defaultOf } from '../../src/config/flags.js';
import type { Message } from '../../src/core/message.js';
import { Logger, LogRateLimit } from '../../src/log/logger.js';
import { frame } from '../protocols/stomp/helpers.js';
import { MemoryLink, memoryKit } from './memory-kit.js';

/** The STOMP flags at their defaults. */
const STOMP_DEFAULTS = Object.fromEntries(START_FLAGS.filter((d) => d.name.startsWith('stomp')).map((d) => [d.key, defaultOf(d)])) as unknown as StompOptions;

/** A memory link that can play a client that stops reading, and decodes the frames written to it. */
class StompLink extends MemoryLink {
  buffered = 0;
  override write(data: Buffer): boolean {
    super.write(data);
    return this.buffered === 0;
  }
  override get bufferedAmount(): number {
    return this.buffered;
  }
  frames(): StompFrame[] {
    const parser = new FrameParser({ maxHeaders: 100, maxHeaderLength: 1 << 16, maxBody: 1 << 20 });
    parser.commands = SERVER_COMMANDS;
    parser.escaping = Escaping.V12;
    const out: StompFrame[] = [];
    parser.feed(Buffer.concat(this.out), (f) => {
      out.push(f);
      return true;
    });
    return out;
  }
}

async function connected(): Promise<{ conn: StompConnection; link: StompLink; published: Message[] }> {
  const { kit, broker } = await memoryKit();
  const log = new Logger({ level: 'silent' });
  const link = new StompLink();
  const conn = new StompConnection(link, kit, stompConfig({ ...STOMP_DEFAULTS, stompHeartbeatIn: 0, stompHeartbeatOut: 0 }, 5000, log, new LogRateLimit(10)));
  conn.onData(frame('CONNECT', { 'accept-version': '1.2', host: 'h' }));
  assert.equal(link.frames()[0]?.command, 'CONNECTED');
  const published: Message[] = [];
  broker.hooks.on('messageAccepted', (m) => published.push(m));
  return { conn, link, published };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a chunk of many SENDs is handled over several turns, in order, none lost', async () => {
  const { conn, published } = await connected();
  conn.onData(Buffer.concat(Array.from({ length: 700 }, (_, i) => frame('SEND', { destination: 'flood' }, String(i)))));
  const firstTurn = published.length;
  assert.ok(firstTurn > 0 && firstTurn < 700, `the first turn handled part of the chunk (${firstTurn})`);
  for (let i = 0; i < 20 && published.length < 700; i++) await turn();
  assert.deepEqual(
    published.map((m) => m.payload.toString()),
    Array.from({ length: 700 }, (_, i) => String(i)),
  );
});

test('a client that does not read what it is sent is not read either, until it catches up', async () => {
  const { conn, link, published } = await connected();
  conn.onData(frame('SUBSCRIBE', { id: 's', destination: 'to-client' }));
  // The client stops reading: its socket buffer is past --max-socket-buffer (4 MiB).
  link.buffered = 8 * 1024 * 1024;
  conn.onData(frame('SEND', { destination: 'to-client' }, 'fills the buffer'));
  assert.equal(link.paused, true, 'reading stopped');
  conn.onData(frame('SEND', { destination: 'meanwhile' }, 'held'));
  assert.deepEqual(
    published.map((m) => m.topic),
    ['to-client'],
    'what arrives meanwhile waits',
  );
  link.buffered = 0;
  conn.onDrain();
  assert.equal(link.paused, false, 'reading again');
  assert.deepEqual(
    published.map((m) => m.topic),
    ['to-client', 'meanwhile'],
  );
});
