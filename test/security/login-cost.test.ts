/**
 * What a password-file login costs: remembered successes skip the hash (and stop matching once
 * the password changes in the reloaded file), an unknown user costs a check like a known one,
 * an address failing again and again backs off without hashing while others go on, and checks
 * already queued for it are dropped rather than hashed. Hashes are counted, never timed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectInfo } from '../../src/core/auth.js';
import { hashPassword } from '../../src/security/password-hash.js';
import { DEFAULT_PASSWORD_CHECKS, PasswordChecks, PasswordFileProvider } from '../../src/security/password-file.js';

const FAST = { ...DEFAULT_PASSWORD_CHECKS, hashThreads: 1 };

function info(username: string | null, password: string | null, remoteAddress = '10.0.0.1'): ConnectInfo {
  return { clientId: 'c', username, password: password === null ? null : Buffer.from(password), remoteAddress, protocol: 'mqtt/5', transport: 'tcp' };
}

test('a login that passed is remembered: the same credentials are allowed at once, without a hash', async (t) => {
  const checks = new PasswordChecks(FAST);
  t.after(() => checks.pool.destroy());
  const provider = new PasswordFileProvider([{ user: 'dev1', hash: await hashPassword('pw1') }], checks);
  const first = provider.authenticate(info('dev1', 'pw1'));
  assert.ok(first instanceof Promise, 'the first login is hashed');
  assert.deepEqual(await first, { outcome: 'allow' });
  const again = provider.authenticate(info('dev1', 'pw1', '10.9.9.9'));
  assert.deepEqual(again, { outcome: 'allow' }, 'answered synchronously from the cache');
  assert.equal(checks.pool.hashed, 1);
  // Another password for the same user is never taken from the cache.
  assert.deepEqual(await provider.authenticate(info('dev1', 'pw2')), { outcome: 'deny', reason: 0x86, detail: 'wrong password' });
  assert.equal(checks.pool.hashed, 2);
});

test('after a reload, a changed password stops matching the remembered login; unchanged users stay remembered', async (t) => {
  const checks = new PasswordChecks(FAST);
  t.after(() => checks.pool.destroy());
  const keep = await hashPassword('keep-pw');
  const before = new PasswordFileProvider(
    [
      { user: 'keep', hash: keep },
      { user: 'moved', hash: await hashPassword('old-pw') },
    ],
    checks,
  );
  assert.deepEqual(await before.authenticate(info('keep', 'keep-pw')), { outcome: 'allow' });
  assert.deepEqual(await before.authenticate(info('moved', 'old-pw')), { outcome: 'allow' });
  // The reloaded file: the same options make new PasswordChecks, which the provider swaps for the old ones.
  const after = new PasswordFileProvider(
    [
      { user: 'keep', hash: keep },
      { user: 'moved', hash: await hashPassword('new-pw') },
    ],
    new PasswordChecks(FAST),
  );
  after.inherit(before);
  assert.deepEqual(after.authenticate(info('keep', 'keep-pw')), { outcome: 'allow' }, 'still remembered');
  const old = after.authenticate(info('moved', 'old-pw'));
  assert.ok(old instanceof Promise, 'the old password is hashed again');
  assert.deepEqual(await old, { outcome: 'deny', reason: 0x86, detail: 'wrong password' });
});

test('an unknown user costs a check of the same kind as a known one when the password file has the last word', async (t) => {
  const checks = new PasswordChecks(FAST);
  t.after(() => checks.pool.destroy());
  const provider = new PasswordFileProvider([{ user: 'dev1', hash: await hashPassword('pw1') }], checks);
  // Another provider after it may know the name: passed on at once.
  assert.deepEqual(provider.authenticate(info('nobody', 'pw')), { outcome: 'ignore' });
  assert.equal(checks.pool.hashed, 0);
  provider.decidesUnknownUsers = true;
  const answer = provider.authenticate(info('nobody', 'pw'));
  assert.ok(answer instanceof Promise);
  assert.deepEqual(await answer, { outcome: 'ignore' });
  assert.equal(checks.pool.hashed, 1, 'hashed against the dummy');
});

test('an address past --auth-failures-allowed backs off without hashing; other addresses and remembered logins go on', async (t) => {
  const checks = new PasswordChecks({ ...FAST, failuresAllowed: 3, backoffMaxMs: 60_000 });
  t.after(() => checks.pool.destroy());
  const provider = new PasswordFileProvider([{ user: 'dev1', hash: await hashPassword('pw1') }], checks);
  assert.deepEqual(await provider.authenticate(info('dev1', 'pw1', '10.0.0.7')), { outcome: 'allow' });
  for (let i = 0; i < 3; i++) assert.equal(((await provider.authenticate(info('dev1', 'bad', '10.0.0.7'))) as { reason: number }).reason, 0x86);
  const refused = await provider.authenticate(info('dev1', 'bad', '10.0.0.7'));
  assert.equal((refused as { reason: number }).reason, 0x9f);
  assert.match((refused as { detail: string }).detail, /retry in \d+ s \(--auth-failure-backoff\)/);
  assert.equal(checks.pool.hashed, 4, 'the refused attempt was not hashed');
  // The remembered device behind the same address still gets in, and that resets the address.
  assert.deepEqual(provider.authenticate(info('dev1', 'pw1', '10.0.0.7')), { outcome: 'allow' });
  assert.equal(((await provider.authenticate(info('dev1', 'bad', '10.0.0.7'))) as { reason: number }).reason, 0x86);
  assert.equal(((await provider.authenticate(info('dev1', 'bad', '10.0.0.8'))) as { reason: number }).reason, 0x86);
});

test('checks queued for an address that starts backing off are dropped unhashed; a valid login queued behind them is checked', async (t) => {
  const checks = new PasswordChecks({ ...FAST, failuresAllowed: 5, backoffMaxMs: 60_000 });
  t.after(() => checks.pool.destroy());
  const provider = new PasswordFileProvider([{ user: 'dev1', hash: await hashPassword('pw1') }], checks);
  // 100 wrong passwords at once from one address, then a valid login from another: one thread.
  const wrong = Array.from({ length: 100 }, () => provider.authenticate(info('dev1', 'bad', '10.6.6.6')));
  const valid = provider.authenticate(info('dev1', 'pw1', '10.1.1.1'));
  assert.deepEqual(await valid, { outcome: 'allow' });
  const reasons = (await Promise.all(wrong)).map((d) => (d as { reason: number }).reason);
  assert.equal(reasons.filter((r) => r === 0x86).length, 5);
  assert.equal(reasons.filter((r) => r === 0x9f).length, 95);
  assert.equal(checks.pool.hashed, 6, 'five failures and the valid login');
});

test('a check whose client is gone by its turn is dropped unhashed', async (t) => {
  const checks = new PasswordChecks(FAST);
  t.after(() => checks.pool.destroy());
  const provider = new PasswordFileProvider([{ user: 'dev1', hash: await hashPassword('pw1') }], checks);
  let open = true;
  const first = provider.authenticate({ ...info('dev1', 'pw1'), waiting: () => open });
  const gone = provider.authenticate({ ...info('dev1', 'pw1'), waiting: () => open });
  open = false;
  await Promise.all([first, gone]);
  assert.equal(checks.pool.hashed, 1, 'only the check that started while its client waited');
});
