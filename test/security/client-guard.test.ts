/** The per-connection guard: decision cache and publish pacing on the timer wheel. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerWheel } from '../../src/core/timer-wheel.js';
import { ConnectionGuard } from '../../src/security/client-guard.js';
import type { Authorizer } from '../../src/core/auth.js';
import { ConnectionRateLimiter, MemoryGuard } from '../../src/security/rate-limits.js';

function setup(rate: { messages: number; bytes: number; strikes: number }) {
  const wheel = new TimerWheel();
  const start = 1_000_000;
  wheel.tick(start);
  const link = { paused: false, pauses: 0, pause() { this.paused = true; this.pauses++; }, resume() { this.paused = false; } };
  let asked = 0;
  const authorizer: Authorizer = { canPublish: (_c, _u, t) => (asked++, t.startsWith('ok/')), canSubscribe: () => true };
  const guard = new ConnectionGuard(authorizer, 'c', null, null, 8, rate, link, wheel);
  return { wheel, link, guard, start, asked: () => asked };
}

test('decisions are cached per connection: the authorizer is asked once per topic', () => {
  const { guard, asked } = setup({ messages: 0, bytes: 0, strikes: 5 });
  for (let i = 0; i < 5; i++) {
    assert.equal(guard.canPublish('ok/a'), true);
    assert.equal(guard.canPublish('no/a'), false);
  }
  assert.equal(asked(), 2);
});

test('over the message rate the link pauses until the window ends, then resumes', () => {
  const { wheel, link, guard, start } = setup({ messages: 3, bytes: 0, strikes: 5 });
  for (let i = 0; i < 3; i++) assert.equal(guard.countPublish(10), true);
  assert.equal(link.paused, false, 'within the rate');
  assert.equal(guard.countPublish(10), true);
  assert.equal(link.paused, true, 'the 4th message in one second pauses reading');
  wheel.tick(start + 500);
  assert.equal(link.paused, true);
  wheel.tick(start + 1250);
  assert.equal(link.paused, false, 'resumed when the window is over');
});

test('over the byte rate the link pauses too', () => {
  const { link, guard } = setup({ messages: 0, bytes: 100, strikes: 5 });
  guard.countPublish(60);
  assert.equal(link.paused, false);
  guard.countPublish(60);
  assert.equal(link.paused, true);
});

test('a client over the rate for more windows in a row than the strikes is flooding; a calm window forgives', () => {
  const { wheel, guard, start } = setup({ messages: 1, bytes: 0, strikes: 2 });
  const flood = (at: number): boolean => {
    wheel.tick(at);
    return guard.countPublish(1) && guard.countPublish(1);
  };
  assert.equal(flood(start), true, 'strike 1');
  assert.equal(flood(start + 1000), true, 'strike 2');
  wheel.tick(start + 2000);
  assert.equal(guard.countPublish(1), true, 'a calm window');
  assert.equal(flood(start + 3000), true, 'strike 1 again');
  assert.equal(flood(start + 4000), true, 'strike 2');
  assert.equal(flood(start + 5000), false, 'strike 3: flooding');
});

test('connection rate per address, in one-second windows, addresses counted apart', () => {
  const r = new ConnectionRateLimiter(2, 3);
  assert.equal(r.allow('a', 0), true);
  assert.equal(r.allow('a', 10), true);
  assert.equal(r.allow('a', 20), false);
  assert.equal(r.allow('b', 20), true);
  assert.equal(r.allow('a', 1020), true, 'a new window');
  for (const x of ['c', 'd', 'e', 'f']) r.allow(x, 1030);
  assert.equal(r.allow('g', 1040), true, 'the address table stays bounded and keeps working');
});

test('connection storm: past the refusals answered each second, over-rate addresses are closed at accept', () => {
  const r = new ConnectionRateLimiter(1, 100, 2);
  assert.equal(r.allow('a', 0), true);
  assert.equal(r.overRate('a', 0), true, 'a used its one attempt');
  assert.equal(r.overRate('b', 0), false);
  r.noteRefusal(10);
  assert.equal(r.refusalsSpent(10), false, 'one refusal answered, budget 2');
  r.noteRefusal(20);
  assert.equal(r.refusalsSpent(20), true, 'budget spent: further over-rate attempts are closed at accept');
  assert.equal(r.refusalsSpent(1030), false, 'a new second answers again');
  assert.equal(r.overRate('a', 1030), false, 'and a is within its rate again');
});

test('memory guard: busy above the RSS limit, sampled at most every 250 ms', () => {
  let rss = 100;
  let samples = 0;
  const m = new MemoryGuard(1000, 250, () => (samples++, { rss, heapUsed: 0 }));
  assert.equal(m.overLimit(0), false);
  rss = 2000;
  assert.equal(m.overLimit(100), false, 'not sampled again yet');
  assert.equal(m.overLimit(300), true);
  assert.equal(samples, 2);
  assert.equal(new MemoryGuard(0).overLimit(0), false, '0 = no check');
});
