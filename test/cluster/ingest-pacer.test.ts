/**
 * The ingest pacer: past --cluster-ingest-per-turn messages in a turn, the NATS connection's
 * socket stops delivering until the next turn of the event loop, then goes on with what waited.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import { IngestPacer } from '../../src/cluster/ingest-pacer.js';

/** A connected socket pair, as nats.js holds one (nc.protocol.transport.socket). */
async function socketPair(): Promise<{ client: net.Socket; server: net.Socket; close: () => void }> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  const server = await accepted;
  return {
    client,
    server,
    close: () => {
      client.destroy();
      server.destroy();
      listener.close();
    },
  };
}

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('past the bound the socket pauses for the rest of the turn and resumes at the next, losing nothing', async (t) => {
  const { client, server, close } = await socketPair();
  t.after(close);
  const chunks: Buffer[] = [];
  client.on('data', (b: Buffer) => chunks.push(b));
  const nc = { protocol: { transport: { socket: client } } } as unknown as NatsConnection;
  const pacer = new IngestPacer(() => nc, 3);
  pacer.took();
  pacer.took();
  assert.equal(client.isPaused(), false, 'below the bound: still flowing');
  pacer.took();
  assert.equal(client.isPaused(), true, 'the third message of the turn pauses the socket');
  assert.equal(pacer.pauses, 1);
  server.write('written while paused');
  await new Promise((resolve) => setTimeout(resolve, 50));
  await immediate();
  assert.equal(client.isPaused(), false, 'the next turn resumes it');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(Buffer.concat(chunks).toString(), 'written while paused', 'what arrived meanwhile is delivered after');
  pacer.took();
  pacer.took();
  assert.equal(client.isPaused(), false, 'the count starts again after a pause');
});

test('no bound (0), or no socket to pause (NATS not connected): nothing pauses', async (t) => {
  const { client, close } = await socketPair();
  t.after(close);
  client.resume();
  const unbounded = new IngestPacer(() => ({ protocol: { transport: { socket: client } } }) as unknown as NatsConnection, 0);
  for (let i = 0; i < 10_000; i++) unbounded.took();
  assert.equal(client.isPaused(), false);
  const disconnected = new IngestPacer(() => null, 1);
  for (let i = 0; i < 10; i++) disconnected.took();
  assert.equal(disconnected.pauses, 0);
});
