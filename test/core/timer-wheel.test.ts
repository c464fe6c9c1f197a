import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerWheel, type WheelItem } from '../../src/core/timer-wheel.js';

class Item implements WheelItem {
  wheelSlot = -1;
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
  assert.equal(item.wheelSlot, -1);
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
  assert.ok(keepAlive.wheelSlot !== -1, 'and its deadline filed again');
  // A client that really went silent is still closed after the stall.
  const silent = new Item();
  wheel.schedule(silent, late + 100);
  wheel.onInterval(late + 4_000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(silent.fired.length, 1);
});
