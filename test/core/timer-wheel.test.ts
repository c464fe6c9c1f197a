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

test('moving the deadline forward (activity) delays firing without re-scheduling', () => {
  const wheel = new TimerWheel(250, 64);
  const t0 = 2_000_000;
  wheel.tick(t0);
  const item = new Item();
  wheel.schedule(item, t0 + 500);
  item.wheelDeadline = t0 + 2000; // as a keep-alive refresh does
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
