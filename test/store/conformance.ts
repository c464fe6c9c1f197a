/**
 * One suite every Store backend runs (after aedes-persistence's abstract.js). Reads are made after
 * `await store.flush()`: a backend may serve loads from committed data only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueuedState, type QueuedRecord, type SessionRecord, type Store, type StoredMessage } from '../../src/store/types.js';

/** What a backend hands the suite for one test. */
export interface StoreHarness {
  store: Store;
  /** Errors the store reported through its onError option. */
  errors: unknown[];
  /** Closes the store and opens a new one on the same data (persistent backends only). */
  reopen(): Promise<Store>;
  /** Closes and removes whatever the harness created. */
  cleanup(): Promise<void>;
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** A message using every field: binary payload, Buffer correlation data, unicode, user properties. */
export function fullMessage(topic: string, fill = 7): StoredMessage {
  return {
    topic,
    payload: Buffer.from([...ALL_BYTES, ...Buffer.alloc(64, fill)]),
    qos: 2,
    retain: true,
    expiresAt: 1_900_000_000_123,
    properties: {
      payloadFormatIndicator: 0,
      contentType: 'application/x-温度; charset=utf-8',
      responseTopic: 'replies/ünïcode/🚗',
      correlationData: Buffer.from([0, 1, 2, 0xfe, 0xff]),
      userProperties: [
        { key: 'k', value: 'v1' },
        { key: 'k', value: 'v2' },
        { key: '车辆', value: 'Ω≈ç√ 🌡' },
      ],
    },
    origin: 'publisher-Ü',
  };
}

/** A bare message: no properties, no origin, never expires. */
export function bareMessage(topic: string, payload: string): StoredMessage {
  return { topic, payload: Buffer.from(payload), qos: 0, retain: false, expiresAt: 0, properties: null, origin: null };
}

/** A queued record for seq with a payload that names the seq, so mix-ups show. */
export function queued(seq: number, state: QueuedState = QueuedState.Queued): QueuedRecord {
  return {
    seq,
    state,
    packetId: state === QueuedState.Queued ? 0 : (seq % 65535) + 1,
    qos: 1,
    retain: false,
    subscriptionIds: seq % 2 === 0 ? null : [1, 268_435_455],
    message: { ...bareMessage(`q/${seq}`, `payload-${seq}`), qos: 1 },
  };
}

/** A session with every kind of subscription. */
export function session(clientId: string): SessionRecord {
  return {
    clientId,
    expiryInterval: 0xffffffff,
    disconnectedAt: 1_700_000_000_000,
    protocol: 'mqtt/5',
    subscriptions: [
      { filter: 'sensors/+/温度', qos: 1, noLocal: true, retainAsPublished: false, retainHandling: 2, subscriptionId: 0 },
      { filter: '$share/group-α/alerts/#', qos: 2, noLocal: false, retainAsPublished: true, retainHandling: 0, subscriptionId: 268_435_455 },
      { filter: '#', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 1, subscriptionId: 7 },
    ],
  };
}

function assertBuffers(message: StoredMessage): void {
  assert.ok(Buffer.isBuffer(message.payload), 'payload comes back as a Buffer');
  const cd = message.properties?.correlationData;
  if (cd !== undefined) assert.ok(Buffer.isBuffer(cd), 'correlationData comes back as a Buffer');
}

function byTopic(a: StoredMessage, b: StoredMessage): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0;
}

/** Registers the conformance tests for one backend. */
export function storeConformance(backend: string, makeHarness: () => Promise<StoreHarness>, persistent: boolean): void {
  async function withStore(body: (h: StoreHarness) => Promise<void>): Promise<void> {
    const h = await makeHarness();
    await h.store.open();
    try {
      await body(h);
    } finally {
      await h.cleanup();
    }
  }

  test(`${backend}: retained messages round-trip with Buffers, properties and unicode`, () =>
    withStore(async ({ store }) => {
      const full = fullMessage('sensors/车/🌡');
      const bare = bareMessage('a/b', '');
      store.putRetained(full);
      store.putRetained(bare);
      await store.flush();
      const loaded = [...store.loadRetained()].sort(byTopic);
      assert.deepEqual(loaded, [bare, full].sort(byTopic));
      for (const m of loaded) assertBuffers(m);
      const reloaded = [...store.loadRetained()].find((m) => m.topic === full.topic);
      assert.deepEqual(reloaded?.payload, full.payload, 'payload bytes stay intact across later reads');
    }));

  test(`${backend}: putRetained overwrites by topic, deleteRetained removes only that topic`, () =>
    withStore(async ({ store }) => {
      store.putRetained(bareMessage('t/1', 'old'));
      store.putRetained(bareMessage('t/2', 'keep'));
      store.putRetained(bareMessage('t/1', 'new'));
      await store.flush();
      assert.deepEqual([...store.loadRetained()].sort(byTopic), [bareMessage('t/1', 'new'), bareMessage('t/2', 'keep')]);
      store.deleteRetained('t/1');
      store.deleteRetained('never/there');
      await store.flush();
      assert.deepEqual([...store.loadRetained()], [bareMessage('t/2', 'keep')]);
    }));

  test(`${backend}: a record mutated after put is stored as it was at put time`, () =>
    withStore(async ({ store }) => {
      const record = queued(1);
      store.putQueued('c', record);
      record.state = QueuedState.Sent;
      record.message.topic = 'changed';
      await store.flush();
      assert.deepEqual(store.loadQueue('c'), [queued(1)]);
    }));

  test(`${backend}: sessions round-trip and overwrite by client id`, () =>
    withStore(async ({ store }) => {
      const a = session('client-ä-🚗');
      const b = session('b');
      store.putSession(a);
      store.putSession(b);
      const b2: SessionRecord = { ...session('b'), expiryInterval: 0, disconnectedAt: 0, protocol: 'mqtt/4', subscriptions: [] };
      store.putSession(b2);
      await store.flush();
      const loaded = [...store.loadSessions()].sort((x, y) => (x.clientId < y.clientId ? -1 : 1));
      assert.deepEqual(
        loaded,
        [b2, a].sort((x, y) => (x.clientId < y.clientId ? -1 : 1)),
      );
    }));

  test(`${backend}: queued records round-trip with every field`, () =>
    withStore(async ({ store }) => {
      const full: QueuedRecord = {
        seq: 1,
        state: QueuedState.Sent,
        packetId: 65535,
        qos: 2,
        retain: true,
        subscriptionIds: [3, 1, 268_435_455],
        message: fullMessage('vehicles/京A12345/状态'),
      };
      const released: QueuedRecord = { ...queued(2, QueuedState.Released) };
      store.putQueued('c', full);
      store.putQueued('c', released);
      await store.flush();
      const loaded = store.loadQueue('c');
      assert.deepEqual(loaded, [full, released]);
      for (const r of loaded) assertBuffers(r.message);
    }));

  test(`${backend}: putQueued with an existing seq replaces it, deleteQueued removes one`, () =>
    withStore(async ({ store }) => {
      store.putQueued('c', queued(1));
      store.putQueued('c', queued(2));
      store.putQueued('c', queued(3));
      await store.flush();
      store.putQueued('c', queued(2, QueuedState.Sent));
      store.deleteQueued('c', 1);
      store.deleteQueued('c', 99);
      store.deleteQueued('nobody', 1);
      await store.flush();
      assert.deepEqual(store.loadQueue('c'), [queued(2, QueuedState.Sent), queued(3)]);
    }));

  test(`${backend}: loadQueue orders by numeric seq, past 2^32 too`, () =>
    withStore(async ({ store }) => {
      const seqs = [10, 2, 2 ** 32 + 5, 1, 2 ** 32, 2 ** 53 - 1, 3, 2 ** 32 - 1, 100];
      for (const seq of seqs) store.putQueued('c', queued(seq));
      await store.flush();
      const loaded = store.loadQueue('c').map((r) => r.seq);
      assert.deepEqual(
        loaded,
        [...seqs].sort((a, b) => a - b),
      );
      assert.deepEqual(
        store.loadQueue('c').map((r) => r.message.payload.toString()),
        loaded.map((s) => `payload-${s}`),
      );
    }));

  test(`${backend}: queues and incoming ids of different clients never mix, even with shared prefixes`, () =>
    withStore(async ({ store }) => {
      const ids = ['a', 'ab', 'a b', 'a/b', 'ä', ''];
      ids.forEach((id, i) => {
        store.putQueued(id, queued(i + 1));
        store.putIncoming(id, i + 1);
      });
      await store.flush();
      ids.forEach((id, i) => {
        assert.deepEqual(store.loadQueue(id), [queued(i + 1)], `queue of ${JSON.stringify(id)}`);
        assert.deepEqual(store.loadIncoming(id), [i + 1], `incoming of ${JSON.stringify(id)}`);
      });
      assert.deepEqual(store.loadQueue('nobody'), []);
      assert.deepEqual(store.loadIncoming('nobody'), []);
    }));

  test(`${backend}: incoming QoS 2 ids are a set, ascending`, () =>
    withStore(async ({ store }) => {
      for (const id of [65535, 1, 300, 1, 2]) store.putIncoming('c', id);
      await store.flush();
      assert.deepEqual(store.loadIncoming('c'), [1, 2, 300, 65535]);
      store.deleteIncoming('c', 300);
      store.deleteIncoming('c', 4);
      await store.flush();
      assert.deepEqual(store.loadIncoming('c'), [1, 2, 65535]);
    }));

  test(`${backend}: deleteSession removes the session, its queue and its incoming ids, nothing else`, () =>
    withStore(async ({ store }) => {
      for (const id of ['a', 'ab']) {
        store.putSession(session(id));
        for (let seq = 1; seq <= 50; seq++) store.putQueued(id, queued(seq));
        store.putIncoming(id, 7);
        store.putIncoming(id, 8);
      }
      await store.flush();
      store.deleteSession('a');
      await store.flush();
      assert.deepEqual([...store.loadSessions()], [session('ab')]);
      assert.deepEqual(store.loadQueue('a'), []);
      assert.deepEqual(store.loadIncoming('a'), []);
      assert.equal(store.loadQueue('ab').length, 50);
      assert.deepEqual(store.loadIncoming('ab'), [7, 8]);
    }));

  test(`${backend}: deleteSession applies in call order within one turn`, () =>
    withStore(async ({ store }) => {
      // Written, deleted and started afresh before anything commits: only the fresh state remains.
      store.putSession(session('c'));
      store.putQueued('c', queued(1));
      store.putIncoming('c', 1);
      store.deleteSession('c');
      const fresh: SessionRecord = { ...session('c'), protocol: 'mqtt/3' };
      store.putSession(fresh);
      store.putQueued('c', queued(2));
      store.putIncoming('c', 2);
      await store.flush();
      assert.deepEqual([...store.loadSessions()], [fresh]);
      assert.deepEqual(store.loadQueue('c'), [queued(2)]);
      assert.deepEqual(store.loadIncoming('c'), [2]);
    }));

  test(`${backend}: afterCommit never calls back synchronously, even with nothing pending`, () =>
    withStore(async ({ store }) => {
      await store.flush();
      let called = false;
      const done = new Promise<void>((resolve) =>
        store.afterCommit((flag: string) => {
          assert.equal(flag, 'arg');
          called = true;
          resolve();
        }, 'arg'),
      );
      assert.equal(called, false);
      await done;
      assert.equal(called, true);
    }));

  test(`${backend}: afterCommit runs callbacks in registration order, each after its writes are readable`, () =>
    withStore(async ({ store }) => {
      const order: number[] = [];
      const seen: boolean[] = [];
      const turns = 3;
      const perTurn = 500;
      for (let turn = 0; turn < turns; turn++) {
        for (let i = 0; i < perTurn; i++) {
          const seq = turn * perTurn + i + 1;
          store.putQueued('c', queued(seq));
          store.afterCommit((s: number) => {
            order.push(s);
            // Its write is visible once the callback runs; checking every 97th keeps the test fast.
            if (s % 97 === 0) seen.push(store.loadQueue('c').some((r) => r.seq === s));
          }, seq);
        }
        // Next turn: a macrotask, as a socket read would be.
        await new Promise((resolve) => setImmediate(resolve));
      }
      await store.flush();
      assert.deepEqual(
        order,
        Array.from({ length: turns * perTurn }, (_, i) => i + 1),
      );
      assert.ok(seen.length > 0 && seen.every(Boolean), 'each callback sees its write');
    }));

  test(`${backend}: callbacks of one turn run together, before any of a later turn`, () =>
    withStore(async ({ store }) => {
      const events: string[] = [];
      for (let i = 0; i < 100; i++) {
        store.putIncoming('c', i + 1);
        store.afterCommit((n: number) => events.push(`a${n}`), i);
      }
      // Anything that runs between two callbacks of the batch would show up inside the a-run.
      setImmediate(() => events.push('immediate'));
      await new Promise((resolve) => setImmediate(resolve));
      store.putIncoming('c', 1000);
      store.afterCommit((n: number) => events.push(`b${n}`), 0);
      await store.flush();
      const first = events.indexOf('a0');
      const aRun = events.slice(first, first + 100);
      assert.deepEqual(
        aRun,
        Array.from({ length: 100 }, (_, i) => `a${i}`),
        'one batch runs contiguously',
      );
      assert.ok(events.indexOf('b0') > events.indexOf('a99'));
    }));

  test(`${backend}: flush resolves after every earlier afterCommit callback`, () =>
    withStore(async ({ store }) => {
      let ran = 0;
      for (let i = 0; i < 10; i++) {
        store.putRetained(bareMessage(`f/${i}`, 'x'));
        store.afterCommit(() => ran++, null);
      }
      await store.flush();
      assert.equal(ran, 10);
      assert.equal([...store.loadRetained()].length, 10);
    }));

  test(`${backend}: a throwing callback is reported and does not stop the rest of its batch`, () =>
    withStore(async ({ store, errors }) => {
      const ran: number[] = [];
      const bug = new Error('callback bug');
      store.putIncoming('c', 1);
      store.afterCommit(() => ran.push(1), null);
      store.afterCommit(() => {
        throw bug;
      }, null);
      store.afterCommit(() => ran.push(3), null);
      await store.flush();
      assert.deepEqual(ran, [1, 3]);
      assert.deepEqual(errors, [bug]);
    }));

  test(`${backend}: beforeCommit runs once at the end of the turn, and the turn's afterCommit callbacks see its writes`, () =>
    withStore(async ({ store, errors }) => {
      const events: string[] = [];
      // A callback registered before the write is gathered still waits for it.
      store.afterCommit(() => events.push(`after sees ${store.loadQueue('c').length}`), null);
      store.beforeCommit(() => {
        events.push('before');
        store.putQueued('c', queued(1));
      });
      const bug = new Error('gatherer bug');
      store.beforeCommit(() => {
        throw bug;
      });
      assert.deepEqual(events, [], 'never synchronously');
      await store.flush();
      assert.deepEqual(events, ['before', 'after sees 1']);
      assert.deepEqual(errors, [bug], 'a throwing one is reported');
      // With no callback waiting it still runs before the turn ends.
      store.beforeCommit(() => store.putQueued('c', queued(2)));
      await new Promise((resolve) => setImmediate(resolve));
      await store.flush();
      assert.deepEqual(
        store.loadQueue('c').map((r) => r.seq),
        [1, 2],
      );
    }));

  test(`${backend}: close runs pending callbacks before it resolves`, () =>
    withStore(async ({ store }) => {
      store.putRetained(bareMessage('c/1', 'x'));
      let ran = false;
      store.afterCommit(() => (ran = true), null);
      await store.close();
      assert.equal(ran, true);
    }));

  if (!persistent) return;

  test(`${backend}: close commits writes issued just before it`, () =>
    withStore(async (h) => {
      h.store.putRetained(bareMessage('c/1', 'x'));
      h.store.putQueued('c', queued(1));
      const store = await h.reopen();
      assert.deepEqual([...store.loadRetained()], [bareMessage('c/1', 'x')]);
      assert.deepEqual(store.loadQueue('c'), [queued(1)]);
    }));

  test(`${backend}: reopening finds every record type`, () =>
    withStore(async (h) => {
      const full = fullMessage('r/🌡');
      h.store.putRetained(full);
      h.store.putSession(session('s-ü'));
      const record: QueuedRecord = { ...queued(2 ** 40, QueuedState.Sent), message: fullMessage('q/x') };
      h.store.putQueued('s-ü', record);
      h.store.putQueued('s-ü', queued(2));
      h.store.putIncoming('s-ü', 42);
      await h.store.flush();
      const store = await h.reopen();
      assert.deepEqual([...store.loadRetained()], [full]);
      assert.deepEqual([...store.loadSessions()], [session('s-ü')]);
      const q = store.loadQueue('s-ü');
      assert.deepEqual(q, [queued(2), record]);
      for (const r of q) assertBuffers(r.message);
      assert.deepEqual(store.loadIncoming('s-ü'), [42]);
    }));
}
