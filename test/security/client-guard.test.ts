/** The per-connection guard: decision cache and publish pacing (token buckets, resumed by the pacer). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionGuard } from '../../src/security/client-guard.js';
import { PublishPacer } from '../../src/security/publish-pacer.js';
import type { Authorizer } from '../../src/core/auth.js';
import { ConnectionRateLimiter, MemoryGuard } from '../../src/security/rate-limits.js';

function setup(rate: { messages: number; bytes: number; strikes: number }) {
  let now = 1_000_000;
  const pacer = new PublishPacer(() => now);
  const link = {
    paused: false,
    pauses: 0,
    pause() {
      this.paused = true;
      this.pauses++;
    },
    resume() {
      this.paused = false;
    },
  };
  let asked = 0;
  const authorizer: Authorizer = {
    canPublish: (_c, _u, t) => {
      asked++;
      return t.startsWith('ok/');
    },
    canSubscribe: () => true,
  };
  const guard = new ConnectionGuard(authorizer, 'c', null, null, 8, rate, link, pacer);
  /** Moves the clock to `start + ms` and lets the pacer run. */
  const at = (ms: number): void => {
    now = 1_000_000 + ms;
    pacer.tick();
  };
  return { link, guard, at, pacer, asked: () => asked };
}

test('decisions are cached per connection: the authorizer is asked once per topic', () => {
  const { guard, asked } = setup({ messages: 0, bytes: 0, strikes: 5 });
  for (let i = 0; i < 5; i++) {
    assert.equal(guard.canPublish('ok/a'), true);
    assert.equal(guard.canPublish('no/a'), false);
  }
  assert.equal(asked(), 2);
});

test('over the message rate the link pauses until half the bucket refilled, then resumes', () => {
  // 100/s: a bucket of 10, resumed at 5 tokens (50 ms of refill).
  const { link, guard, at, pacer } = setup({ messages: 100, bytes: 0, strikes: 5 });
  for (let i = 0; i < 10; i++) assert.equal(guard.countPublish(10), true);
  assert.equal(link.paused, false, 'a burst of a tenth of a second is fine');
  assert.equal(guard.countPublish(10), true, 'the message over the rate is still handled');
  assert.equal(link.paused, true, 'and reading pauses');
  at(30);
  assert.equal(link.paused, true, '3 tokens back: not yet');
  at(70);
  assert.equal(link.paused, false, 'resumed once half the bucket is back');
  assert.equal(pacer.size, 0, 'and the pacer forgot it');
});

test('a steady client at the rate never pauses', () => {
  const { link, guard, at } = setup({ messages: 100, bytes: 0, strikes: 5 });
  for (let ms = 0; ms < 3000; ms += 10) {
    at(ms);
    assert.equal(guard.countPublish(10), true);
  }
  assert.equal(link.pauses, 0);
});

test('over the byte rate the link pauses too', () => {
  const { link, guard } = setup({ messages: 0, bytes: 100, strikes: 5 });
  guard.countPublish(60);
  assert.equal(link.paused, false);
  guard.countPublish(60);
  assert.equal(link.paused, true);
});

test('a client over the rate for more windows in a row than the strikes is flooding; a calm window forgives', () => {
  // 10/s: a bucket of 10; twelve at once run it dry, and a second refills it.
  const { guard, at } = setup({ messages: 10, bytes: 0, strikes: 2 });
  const flood = (ms: number): boolean => {
    at(ms);
    let ok = true;
    for (let i = 0; i < 12; i++) ok = guard.countPublish(1) && ok;
    return ok;
  };
  assert.equal(flood(0), true, 'strike 1');
  assert.equal(flood(1000), true, 'strike 2');
  at(3000);
  assert.equal(guard.countPublish(1), true, 'a calm window');
  assert.equal(flood(4000), true, 'strike 1 again');
  assert.equal(flood(5000), true, 'strike 2');
  assert.equal(flood(6000), false, 'strike 3: flooding');
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
  const m = new MemoryGuard(1000, 250, () => {
    samples++;
    return { rss, heapUsed: 0 };
  });
  assert.equal(m.overLimit(0), false);
  rss = 2000;
  assert.equal(m.overLimit(100), false, 'not sampled again yet');
  assert.equal(m.overLimit(300), true);
  assert.equal(samples, 2);
  assert.equal(new MemoryGuard(0).overLimit(0), false, '0 = no check');
});
