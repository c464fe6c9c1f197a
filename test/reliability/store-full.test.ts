/**
 * A store that cannot take more: a full disk (a 2 MiB tmpfs, mounted here as root) and
 * --max-store-size. Real broker processes and raw MQTT clients: the broker stays up, refuses what
 * it cannot keep (MQTT 5 PUBACK 0x97, 3.1.1 closes without the ack), says why, starts on a full
 * disk, and takes writes again once there is room.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, rawClient, startBroker, type Broker, type RawClient, type TestContext } from '../interop/harness.js';
import { RawStomp, frame as stompFrame } from '../protocols/stomp/helpers.js';
import { adminBroker } from '../admin/admin-broker.js';
import { jt808Port, onlineTerminal, testPhone } from '../protocols/jt808/helpers.js';
import { sampleLocation } from '../../bench/lib/jt808-terminal.js';
import { PacketType, parseAck, publishPacket, subscribePacket } from '../interop/wire.js';

/** Publishes one retained QoS 1 message of `size` bytes and returns the PUBACK's reason, or 'closed'. */
async function publishRetained(raw: RawClient, version: 4 | 5, topic: string, size: number, packetId: number): Promise<number | 'closed'> {
  raw.send(publishPacket({ version, topic, qos: 1, retain: true, packetId, payload: Buffer.alloc(size, 0x61) }));
  try {
    const ack = parseAck(await raw.next(PacketType.PUBACK, 5000));
    assert.equal(ack.packetId, packetId);
    return ack.reason;
  } catch (err) {
    if (raw.closed) return 'closed';
    throw err;
  }
}

/** True for a PUBACK that accepted the message (5.0 says 0x10 when nobody subscribes). */
function accepted(answer: number | 'closed'): boolean {
  return answer !== 'closed' && answer < 0x80;
}

/** Publishes retained messages on fresh topics until one is refused; returns how many were accepted, and that answer. */
async function fillUntilRefused(raw: RawClient, version: 4 | 5, prefix: string, size: number, max: number): Promise<{ acked: number; answer: number | 'closed' }> {
  for (let i = 0; i < max; i++) {
    const answer = await publishRetained(raw, version, `${prefix}/${i}`, size, (i % 60000) + 1);
    if (!accepted(answer)) return { acked: i, answer };
  }
  throw new Error(`every one of ${max} publishes was acknowledged: the store never refused`);
}

async function connected(t: TestContext, broker: Broker, version: 4 | 5, clientId: string): Promise<RawClient> {
  const raw = await rawClient(t, broker.port, version);
  await raw.handshake({ clientId });
  return raw;
}

function logged(broker: Broker, msg: string): Record<string, unknown> | undefined {
  return broker.logs.find((l) => String(l['msg']).startsWith(msg));
}

test('a full disk: publishers are refused, the broker stays up, starts again on the full disk, and recovers when space returns', { timeout: 120_000 }, async (t) => {
  const mount = mkdtempSync(join(tmpdir(), 'junction-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount]);
  let broker: Broker | undefined;
  try {
    const dataDir = join(mount, 'data');
    mkdirSync(dataDir);
    // A limit above the disk: the disk fills before --max-store-size says no.
    broker = await startBroker({ dataDir, args: ['--max-store-size', '1GiB', '--allow-anonymous'] });
    const v5 = await connected(t, broker, 5, 'filler-5');
    const first = await fillUntilRefused(v5, 5, 'disk', 20_000, 500);
    assert.equal(first.answer, 0x97, 'MQTT 5 publisher gets PUBACK 0x97 Quota exceeded');
    assert.ok(first.acked > 10, `some messages fit first (${first.acked})`);
    assert.equal(broker.process.exitCode, null, 'the broker is still running');
    await assertEventually(() => logged(broker!, 'store commit failed') !== undefined, 'the log says the store commit failed');
    assert.match(JSON.stringify(logged(broker, 'store commit failed')), /error|space|I\/O/i);

    // 3.1.1: no way to say no; the connection closes without a PUBACK, so the client resends later.
    const v4 = await connected(t, broker, 4, 'filler-4');
    assert.equal(await publishRetained(v4, 4, 'disk/v4', 20_000, 7), 'closed');

    // Restart on the full disk: it starts, and what was acknowledged is there.
    await broker.stop();
    await broker.restart();
    const sub = await connected(t, broker, 5, 'reader');
    sub.send(subscribePacket(1, [{ filter: 'disk/0', options: 1 }], 5));
    await sub.nextOf(PacketType.SUBACK);
    const retained = await sub.nextOf(PacketType.PUBLISH);
    assert.ok(retained.body.length > 20_000, 'the first acknowledged retained message survived');

    // Space returns: writes commit again.
    execFileSync('mount', ['-o', 'remount,size=16m', mount]);
    const again = await connected(t, broker, 5, 'filler-5b');
    let answer: number | 'closed' = 0x97;
    for (let i = 0; i < 20 && !accepted(answer); i++) answer = await publishRetained(again, 5, 'disk/after', 20_000, i + 1);
    assert.ok(accepted(answer), `a publish is acknowledged again once the disk has room (got ${answer})`);
    await assertEventually(() => logged(broker!, 'store commits again') !== undefined || broker!.logs.every((l) => l['msg'] !== 'store commit failed'), 'the log says the store commits again');
  } finally {
    await broker?.dispose();
    execFileSync('umount', ['-l', mount]);
    rmSync(mount, { recursive: true, force: true });
  }
});

test('--max-store-size: past it new records are refused (0x97, 3.1.1 closed); clearing retained messages makes room again', { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-store-size-'));
  const broker = await startBroker({ dataDir, args: ['--max-store-size', '512KiB', '--allow-anonymous'] });
  t.after(() => broker.dispose());
  const v5 = await connected(t, broker, 5, 'size-5');
  const filled = await fillUntilRefused(v5, 5, 'size', 4000, 2000);
  assert.equal(filled.answer, 0x97);
  // The limit holds the live records near 512 KiB: the writes since the last measure count, so
  // however fast the publisher, it overshoots by a turn's batch (here one message), not by an interval's.
  assert.ok(filled.acked * 4000 < 640 * 1024, `${filled.acked} messages of 4000 bytes were acknowledged`);
  assert.ok(logged(broker, 'store at --max-store-size'), 'the log says the store is at --max-store-size');

  // QoS 2: PUBREC 0x97 ends the flow, so the packet id is free for a new message.
  v5.send(publishPacket({ version: 5, topic: 'size/qos2', qos: 2, retain: true, packetId: 777, payload: Buffer.alloc(4000, 0x62) }));
  const pubrec = parseAck(await v5.nextOf(PacketType.PUBREC));
  assert.deepEqual([pubrec.packetId, pubrec.reason], [777, 0x97]);

  const v4 = await connected(t, broker, 4, 'size-4');
  assert.equal(await publishRetained(v4, 4, 'size/v4', 4000, 9), 'closed');

  // Clearing retained messages (an empty retained payload) always goes through, and frees room.
  const cleaner = await connected(t, broker, 5, 'cleaner');
  for (let i = 0; i < filled.acked; i++) {
    cleaner.send(publishPacket({ version: 5, topic: `size/${i}`, qos: 1, retain: true, packetId: i + 1, payload: '' }));
    await cleaner.nextOf(PacketType.PUBACK);
  }
  let answer: number | 'closed' = 0x97;
  for (let i = 0; i < 20 && !accepted(answer); i++) answer = await publishRetained(cleaner, 5, 'size/again', 4000, 60_000 + i);
  assert.ok(accepted(answer), `accepted again once retained messages were cleared (got ${answer})`);
  assert.ok(logged(broker, 'store below --max-store-size again'));
});

test('a full store refuses a STOMP SEND that waits on it: ERROR naming the receipt instead of RECEIPT', { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-store-size-'));
  const broker = await startBroker({ dataDir, args: ['--max-store-size', '512KiB', '--allow-anonymous', '--stomp-port', '0'] });
  t.after(() => broker.dispose());
  // An offline persistent session: a message for it is stored before the sender's receipt.
  const offline = await connect(t, broker.url, { protocolVersion: 4, clean: false, clientId: 'offline-sub' });
  await offline.subscribeAsync('q/#', { qos: 1 });
  await offline.endAsync();
  const listening = (): Record<string, unknown> | undefined => broker.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === 'stomp');
  await assertEventually(() => listening() !== undefined, 'the STOMP listener in the log');
  const stompPort = Number(listening()!['port']);
  const sender = await RawStomp.connect(t, stompPort);
  await sender.request('SEND', { destination: 'q/before' }, 'fits');

  const v5 = await connected(t, broker, 5, 'size-5');
  assert.equal((await fillUntilRefused(v5, 5, 'size', 4000, 2000)).answer, 0x97);
  sender.send(stompFrame('SEND', { destination: 'q/after', receipt: 'r-full' }, 'does not fit'));
  const error = await sender.next('ERROR');
  assert.equal(error.header('receipt-id'), 'r-full');
  assert.match(error.header('message') ?? '', /message not stored: the store reached --max-store-size/);
  await sender.closedWithin(3000);
});

test('a full store refuses a JT/T 808 uplink that waits on it: 8001 result 1 instead of 0', { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-store-size-'));
  const broker = await startBroker({ dataDir, args: ['--max-store-size', '512KiB', '--allow-anonymous', '--jt808-port', '0'] });
  t.after(() => broker.dispose());
  const offline = await connect(t, broker.url, { protocolVersion: 4, clean: false, clientId: 'offline-jt' });
  await offline.subscribeAsync('jt808/#', { qos: 1 });
  await offline.endAsync();
  const term = await onlineTerminal(t, await jt808Port(broker), testPhone(139));
  assert.equal(await term.response(0x0200, term.send(0x0200, sampleLocation(1))), 0, 'stored: result 0');

  const v5 = await connected(t, broker, 5, 'size-5');
  assert.equal((await fillUntilRefused(v5, 5, 'size', 4000, 2000)).answer, 0x97);
  assert.equal(await term.response(0x0200, term.send(0x0200, sampleLocation(2))), 1, 'not stored: result 1 (failure)');
});

test('a full store: POST /api/v1/publish answers 507 store-full, and /metrics says the store is full', { timeout: 60_000 }, async (t) => {
  const admin = await adminBroker(t, ['--store', 'lmdb', '--max-store-size', '256KiB']);
  let answer = await admin.api('POST', '/api/v1/publish', { topic: 'admin/0', payload: 'x'.repeat(4000), qos: 1, retain: true });
  assert.equal(answer.status, 200);
  for (let i = 1; i < 1000 && answer.status === 200; i++) answer = await admin.api('POST', '/api/v1/publish', { topic: `admin/${i}`, payload: 'x'.repeat(4000), qos: 1, retain: true });
  assert.equal(answer.status, 507, answer.text);
  assert.match(answer.text, /"code":"store-full".*not stored: the store reached --max-store-size/);
  const metrics = (await admin.api('GET', '/metrics')).text;
  assert.match(metrics, /^junction_store_full 1$/m);
  assert.match(metrics, /^junction_store_limit_bytes 262144$/m);
  assert.match(metrics, /^junction_store_refused_writes_total [1-9]\d*$/m);
});

async function assertEventually(check: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > until) assert.fail(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
