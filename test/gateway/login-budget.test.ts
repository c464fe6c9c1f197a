/**
 * --max-logins-per-turn for STOMP, JT/T 808 and GB/T 32960, on real broker processes with a
 * budget of one login per pass of the event loop. 200 connections of a protocol each write
 * their login frame and one more frame in one go: every login is answered and the frame behind
 * it is handled after it (it waited with the login for a later pass: nothing lost, nothing
 * reordered). And a client logged in before such a storm keeps getting answers while the
 * storm's logins wait for their passes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, waitFor, type Broker, type TestContext } from '../interop/harness.js';
import { RawStomp, frame as stompFrame } from '../protocols/stomp/helpers.js';
import { Vehicle, frame as gbtFrame, gbtPort, loginData } from '../protocols/gbt32960/helpers.js';
import { jt808Port, onlineTerminal, testPhone } from '../protocols/jt808/helpers.js';
import { Terminal, terminalHeader } from '../../bench/lib/jt808-terminal.js';
import { encodeMessage } from '../../src/protocols/jt808/codec/message.js';
import type { JsonObject } from '../../src/protocols/jt808/codec/json-fields.js';

const STORM = 200;
/** Generous: 200 logins one per pass on a shared 2-core machine, with the test's own sockets. */
const TIMEOUT_MS = 20_000;
const BUDGET = ['--max-logins-per-turn', '1'];

/** One connection of the storm, not logged in yet. */
interface StormPeer {
  /** The login frame and the frame after it, written together. */
  readonly burst: Buffer;
  write(bytes: Buffer): void;
  /** Resolves once the login and then the frame behind it are answered; throws on anything else. */
  answered(timeoutMs: number): Promise<void>;
}

/** A client logged in before the storm. */
interface Established {
  /** One request and its answer. */
  ping(timeoutMs: number): Promise<void>;
}

interface Protocol {
  readonly name: string;
  /** Flags of its listener (and what its logins need). */
  readonly args: readonly string[];
  port(broker: Broker): Promise<number>;
  peer(t: TestContext, port: number, i: number): Promise<StormPeer>;
  established(t: TestContext, port: number): Promise<Established>;
}

async function stompPort(broker: Broker): Promise<number> {
  const find = () => broker.logs.find((l) => l['msg'] === 'listening' && l['protocol'] === 'stomp' && l['transport'] === 'tcp');
  await waitFor(() => find() !== undefined, 5000, 'the STOMP listening line');
  return Number(find()!['port']);
}

const STOMP_CONNECT = stompFrame('CONNECT', { 'accept-version': '1.2', host: 'localhost', 'heart-beat': '0,0' });

const stomp: Protocol = {
  name: 'STOMP',
  args: ['--stomp-port', '0'],
  port: stompPort,
  async peer(t, port, i) {
    const c = await RawStomp.open(t, port);
    const receipt = `storm-${i}`;
    return {
      burst: Buffer.concat([STOMP_CONNECT, stompFrame('SUBSCRIBE', { id: '1', destination: `/topic/storm/${i}`, receipt })]),
      write: (bytes) => c.send(bytes),
      async answered(ms) {
        // next() fails on any other frame: an ERROR (SUBSCRIBE handled before CONNECT) included.
        await c.next('CONNECTED', ms);
        assert.equal((await c.next('RECEIPT', ms)).header('receipt-id'), receipt);
      },
    };
  },
  async established(t, port) {
    const c = await RawStomp.connect(t, port);
    let n = 0;
    return {
      async ping(ms) {
        const receipt = `established-${++n}`;
        c.send(stompFrame('SUBSCRIBE', { id: String(n), destination: '/topic/established', receipt }));
        assert.equal((await c.next('RECEIPT', ms)).header('receipt-id'), receipt);
      },
    };
  },
};

const REGISTER: JsonObject = { province: 31, city: 115, manufacturer: 'JNCT', model: 'SIM-1', dev_id: 'T01', color: 1, license_number: 'A12345' };

const jt808: Protocol = {
  name: 'JT/T 808',
  // Registration and authentication by the broker itself (no endpoints): anonymous fleets.
  args: ['--jt808-port', '0', '--allow-anonymous'],
  port: (broker) => jt808Port(broker),
  async peer(t, port) {
    const phone = testPhone(149);
    const term = await Terminal.connect(port, phone);
    t.after(() => term.close());
    const message = (msgId: number, sn: number, body: JsonObject): Buffer => encodeMessage(terminalHeader(phone, false, msgId, sn), body);
    return {
      // Registration and authentication (two logins of the budget), then a heartbeat.
      burst: Buffer.concat([message(0x0100, 0, REGISTER), message(0x0102, 1, { code: 'storm' }), message(0x0002, 2, {})]),
      write: (bytes) => term.writeRaw(bytes),
      async answered(ms) {
        const reg = await term.expect('8100', (r) => r.header['msg_id'] === 0x8100 && r.body['seq'] === 0, ms);
        assert.equal(reg.body['result'], 0);
        assert.equal(await term.response(0x0102, 1, ms), 0, 'authenticated');
        // A heartbeat handled before authentication would be answered 8001 result 1.
        assert.equal(await term.response(0x0002, 2, ms), 0, 'the heartbeat after it answered as from a terminal online');
        assert.deepEqual(
          term.received.map((r) => [r.header['msg_id'], r.body['seq'] ?? -1]),
          [
            [0x8100, 0],
            [0x8001, 1],
            [0x8001, 2],
          ],
        );
      },
    };
  },
  async established(t, port) {
    const term = await onlineTerminal(t, port, testPhone(149));
    return {
      async ping(ms) {
        const sn = term.send(0x0002);
        assert.equal(await term.response(0x0002, sn, ms), 0);
      },
    };
  },
};

/** A VIN of 17 characters for vehicle `i`. */
const vin = (i: number): string => `LJNCTSTORM${String(i).padStart(7, '0')}`;
const GBT_SUCCESS = 0x01;

const gbt32960: Protocol = {
  name: 'GB/T 32960',
  args: ['--gbt32960-port', '0', '--allow-anonymous'],
  port: async (broker) => {
    await waitFor(() => broker.logs.some((l) => l['msg'] === 'listening' && l['protocol'] === 'gbt32960'), 5000, 'the GB/T 32960 listening line');
    return gbtPort(broker);
  },
  async peer(t, port, i) {
    const v = await Vehicle.connect(t, port);
    const id = vin(i);
    return {
      // The vehicle login, then a heartbeat (answered; a frame before login would close the connection).
      burst: Buffer.concat([gbtFrame(0x01, loginData(1), id), gbtFrame(0x07, null, id)]),
      write: (bytes) => v.send(bytes),
      async answered(ms) {
        const login = await v.next(undefined, ms);
        assert.deepEqual([login.command, login.flag, login.vin], [0x01, GBT_SUCCESS, id]);
        const beat = await v.next(undefined, ms);
        assert.deepEqual([beat.command, beat.flag, beat.vin], [0x07, GBT_SUCCESS, id]);
      },
    };
  },
  async established(t, port) {
    const v = await Vehicle.connect(t, port);
    const id = vin(99_999);
    v.send(gbtFrame(0x01, loginData(1), id));
    assert.equal((await v.next(0x01)).flag, GBT_SUCCESS);
    return {
      async ping(ms) {
        v.send(gbtFrame(0x07, null, id));
        assert.equal((await v.next(0x07, ms)).flag, GBT_SUCCESS);
      },
    };
  },
};

/** A broker with the protocol's listener and a budget of one login per pass; its port. */
async function budgetBroker(t: TestContext, p: Protocol): Promise<number> {
  const broker = await brokerFor(t, { args: ['--store', 'memory', ...BUDGET, ...p.args] });
  return p.port(broker);
}

/** Opens the storm's connections (all connected before any writes). */
function openStorm(t: TestContext, p: Protocol, port: number): Promise<StormPeer[]> {
  return Promise.all(Array.from({ length: STORM }, (_, i) => p.peer(t, port, i)));
}

/** Writes every burst in one go; resolves with the answers, counting in `progress` those answered so far. */
function unleash(peers: StormPeer[], progress: { answered: number }): Promise<void> {
  const all = Promise.all(peers.map((peer) => peer.answered(TIMEOUT_MS).then(() => void progress.answered++)));
  for (const peer of peers) peer.write(peer.burst);
  return all.then(() => undefined);
}

for (const p of [stomp, jt808, gbt32960]) {
  test(`${p.name}: with --max-logins-per-turn 1, ${STORM} logins each followed by a frame in the same write are all answered, the frame after its login`, async (t) => {
    const port = await budgetBroker(t, p);
    const peers = await openStorm(t, p, port);
    const progress = { answered: 0 };
    await unleash(peers, progress);
    assert.equal(progress.answered, STORM);
  });

  test(`${p.name}: with --max-logins-per-turn 1, a client logged in before a storm of ${STORM} logins keeps getting answers while the storm waits its turns`, async (t) => {
    const port = await budgetBroker(t, p);
    const established = await p.established(t, port);
    const peers = await openStorm(t, p, port);
    const progress = { answered: 0 };
    let stormOver = false;
    const storm = unleash(peers, progress).finally(() => {
      stormOver = true;
    });
    // Handled below; this keeps a failure while a ping is awaited from counting as unhandled.
    storm.catch(() => undefined);
    // How many of the storm were answered at each of the established client's answers.
    const seen: number[] = [];
    while (!stormOver) {
      await established.ping(TIMEOUT_MS);
      seen.push(progress.answered);
    }
    await storm;
    assert.equal(progress.answered, STORM);
    // Without the budget the storm's logins are handled in the poll phases they arrive in, and the
    // established client is answered after (nearly) all of them (seen: 200; 186 200).
    assert.ok(
      seen.some((n) => n < STORM / 2),
      `the established client was answered while most of the storm still waited (storm answered at each of its answers: ${seen.join(' ')})`,
    );
  });
}
