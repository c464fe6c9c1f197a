import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerWheel, type WheelItem, type WheelLink } from '../../src/core/timer-wheel.js';

class Item implements WheelItem {
  wheelPrev: WheelLink | null = null;
  wheelNext: WheelLink | null = null;
  wheelDeadline = 0;
  fired: number[] = [];
  next = 0;
  onTimer(now: number): number {
    this.fired.push(now);
    return this.next;
  }
}

test('an item fires once its deadline has passed, not before', () => {
  const wheel = new TimerWheel(250, 64);
  const t0 = 1_000_000;
  wheel.tick(t0);
  const item = new Item();
  wheel.schedule(item, t0 + 1000);
  wheel.tick(t0 + 750);
  assert.deepEqual(item.fired, []);
  wheel.tick(t0 + 1000);
  assert.deepEqual(item.fired, [t0 + 1000]);
  assert.equal(TimerWheel.filed(item), false);
});

test('a deadline moved forward (activity) fires at the new time, not the old one', () => {
  const wheel = new TimerWheel(250, 64);
  const t0 = 2_000_000;
  wheel.tick(t0);
  const item = new Item();
  wheel.schedule(item, t0 + 500);
  wheel.schedule(item, t0 + 2000);
  assert.equal(wheel.deadlineOf(item), t0 + 2000);
  wheel.tick(t0 + 500);
  assert.deepEqual(item.fired, []);
  for (let t = t0 + 750; t <= t0 + 2000; t += 250) wheel.tick(t);
  assert.deepEqual(item.fired, [t0 + 2000]);
});

test('deadlines beyond one lap of the wheel still fire at the right time', () => {
  const wheel = new TimerWheel(250, 8); // a lap is 2 s
  const t0 = 3_000_000;
  wheel.tick(t0);
  const item = new Item();
  wheel.schedule(item, t0 + 5000);
  for (let t = t0 + 250; t < t0 + 5000; t += 250) wheel.tick(t);
  assert.deepEqual(item.fired, []);
  wheel.tick(t0 + 5000);
  assert.equal(item.fired.length, 1);
});

test('onTimer returning a new deadline re-files the item; cancel removes it', () => {
  const wheel = new TimerWheel(250, 64);
  const t0 = 4_000_000;
  wheel.tick(t0);
  const item = new Item();
  item.next = t0 + 1000;
  wheel.schedule(item, t0 + 500);
  wheel.tick(t0 + 500);
  item.next = 0;
  wheel.tick(t0 + 750);
  wheel.tick(t0 + 1000);
  assert.equal(item.fired.length, 2);
  const other = new Item();
  wheel.schedule(other, t0 + 1500);
  wheel.cancel(other);
  wheel.tick(t0 + 1500);
  assert.deepEqual(other.fired, []);
});

test('a stalled clock catches up and fires everything overdue', () => {
  const wheel = new TimerWheel(250, 16);
  const t0 = 5_000_000;
  wheel.tick(t0);
  const items = [new Item(), new Item(), new Item()];
  for (const [i, item] of items.entries()) wheel.schedule(item, t0 + 250 * (i + 1));
  wheel.tick(t0 + 60_000);
  for (const item of items) assert.equal(item.fired.length, 1);
});

test('after a stall the clock moves at once and deadlines fire after the poll phase: a packet that waited in the socket keeps its client', async () => {
  const wheel = new TimerWheel(250, 64);
  // Times around the real clock: the deferred firing reads Date.now().
  const t0 = Math.floor(Date.now() / 250) * 250 - 3_250;
  wheel.tick(t0);
  // A keep-alive item: its deadline is 1.5 s after the last packet, moved forward by activity.
  const keepAlive = new Item();
  let lastActivity = t0;
  keepAlive.onTimer = (now) => {
    const deadline = lastActivity + 1500;
    if (now >= deadline) {
      keepAlive.fired.push(now);
      return 0;
    }
    return deadline;
  };
  wheel.schedule(keepAlive, t0 + 1500);
  // On time: fires synchronously when due.
  const onTime = new Item();
  wheel.schedule(onTime, t0 + 200);
  wheel.onInterval(t0 + 250);
  assert.equal(onTime.fired.length, 1, 'an on-time tick fires at once');
  // The process stalls for 3 s; the next tick is late. The client's PINGREQ, sent in time, is
  // read in this loop iteration's poll phase, after the timers.
  const late = t0 + 3_250;
  wheel.onInterval(late);
  assert.equal(wheel.now, late, 'the clock moved at once');
  assert.deepEqual(keepAlive.fired, [], 'nothing fires before the poll phase');
  lastActivity = wheel.now; // the read, with the fresh clock
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(keepAlive.fired, [], 'the client whose packet waited in the socket is kept');
  assert.ok(TimerWheel.filed(keepAlive), 'and its deadline filed again');
  // A client that really went silent is still closed after the stall.
  const silent = new Item();
  wheel.schedule(silent, late + 100);
  wheel.onInterval(late + 4_000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(silent.fired.length, 1);
});

test('a callback may cancel or file other items of the slot being fired: cancelled ones stay quiet, overdue ones fire in the same tick', () => {
  const wheel = new TimerWheel(250, 64);
  const t0 = 6_000_000;
  wheel.tick(t0);
  const items = Array.from({ length: 6 }, () => new Item());
  for (const item of items) wheel.schedule(item, t0 + 250);
  const late = new Item();
  // The first item to fire closes two others and files a deadline already passed (a will of 0 s).
  const first = items[0]!;
  first.onTimer = (now) => {
    first.fired.push(now);
    wheel.cancel(items[3]!);
    wheel.cancel(items[5]!);
    wheel.schedule(late, t0);
    return 0;
  };
  wheel.tick(t0 + 250);
  assert.deepEqual(
    items.map((i) => i.fired.length),
    [1, 1, 1, 0, 1, 0],
  );
  assert.equal(late.fired.length, 1, 'the overdue deadline fired in the same tick, not a lap later');
  for (const item of [...items, late]) assert.equal(TimerWheel.filed(item), false);
});

test('many items sharing a slot with a later lap among them: each fires on its own tick', () => {
  const wheel = new TimerWheel(250, 8);
  const t0 = 7_000_000;
  wheel.tick(t0);
  const now = Array.from({ length: 100 }, () => new Item());
  const lapLater = Array.from({ length: 100 }, () => new Item());
  now.forEach((item, i) => {
    wheel.schedule(item, t0 + 250);
    wheel.schedule(lapLater[i]!, t0 + 250 + 2000);
  });
  wheel.tick(t0 + 250);
  assert.ok(now.every((i) => i.fired.length === 1));
  assert.ok(lapLater.every((i) => i.fired.length === 0 && TimerWheel.filed(i)));
  for (let t = t0 + 500; t <= t0 + 2250; t += 250) wheel.tick(t);
  assert.ok(lapLater.every((i) => i.fired.length === 1 && !TimerWheel.filed(i)));
});
