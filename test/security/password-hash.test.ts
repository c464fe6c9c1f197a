/** Password hashes: the formats written, mosquitto's formats read, and malformed lines refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { hashPassword, parseHash, verifyPassword, type StoredHash } from '../../src/security/password-hash.js';
import { formatPasswordFile, parsePasswordFile, PasswordFileProvider } from '../../src/security/password-file.js';
import { ConfigError } from '../../src/errors.js';

const stored = (text: string): StoredHash => {
  const parsed = parseHash(text);
  assert.notEqual(typeof parsed, 'string', `parses: ${String(parsed)}`);
  return parsed as StoredHash;
};

for (const kind of ['scrypt', 'pbkdf2'] as const) {
  test(`${kind}: a hash verifies its password and nothing else, with a fresh salt each time`, async () => {
    const a = await hashPassword('correct horse', kind);
    const b = await hashPassword('correct horse', kind);
    assert.notEqual(a, b, 'two hashes of one password differ (random salt)');
    assert.equal(await verifyPassword(stored(a), Buffer.from('correct horse')), true);
    assert.equal(await verifyPassword(stored(a), Buffer.from('correct hors')), false);
    assert.equal(await verifyPassword(stored(b), Buffer.from('')), false);
  });
}

test('mosquitto_passwd $7$ (PBKDF2-SHA512) lines verify', async () => {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync('mosq-pass', salt, 101, 64, 'sha512');
  const line = `$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
  assert.equal(await verifyPassword(stored(line), Buffer.from('mosq-pass')), true);
  assert.equal(await verifyPassword(stored(line), Buffer.from('other')), false);
});

test('mosquitto 1.x $6$ (salted SHA-512) lines verify', async () => {
  const salt = randomBytes(12);
  const hash = createHash('sha512').update('old-pass').update(salt).digest();
  const line = `$6$${salt.toString('base64')}$${hash.toString('base64')}`;
  assert.equal(await verifyPassword(stored(line), Buffer.from('old-pass')), true);
  assert.equal(await verifyPassword(stored(line), Buffer.from('old-pas')), false);
});

test('malformed and hostile hashes are refused with a reason', () => {
  for (const bad of ['plain', '$md5$abc$def', '$scrypt$N=3,r=8,p=1$AAAA$AAAA', '$scrypt$N=4194304,r=8,p=1$AAAA$AAAA', '$7$0$AAAA$AAAA', '$7$99999999999$AAAA$AAAA', '$7$10$!!$AAAA']) {
    assert.equal(typeof parseHash(bad), 'string', `refused: ${bad}`);
  }
});

test('password file: parses, skips comments, refuses duplicates and bad lines with their line number', async () => {
  const h = await hashPassword('pw');
  const entries = parsePasswordFile(`# users\n\nalice:${h}\nbob:${h}\n`);
  assert.deepEqual(
    entries.map((e) => e.user),
    ['alice', 'bob'],
  );
  assert.equal(formatPasswordFile(entries), `alice:${h}\nbob:${h}\n`);
  assert.throws(
    () => parsePasswordFile(`alice:${h}\nalice:${h}\n`, 'f'),
    (e: unknown) => e instanceof ConfigError && /line 2.*twice/.test(e.message),
  );
  assert.throws(
    () => parsePasswordFile('nocolon\n', 'f'),
    (e: unknown) => e instanceof ConfigError && /line 1/.test(e.message),
  );
  assert.throws(
    () => parsePasswordFile('carol:$zz$x$y\n', 'f'),
    (e: unknown) => e instanceof ConfigError && /carol.*unknown hash scheme/.test(e.message),
  );
});

test('password-file provider: unknown users pass on, wrong passwords are refused with 0x86', async () => {
  const provider = new PasswordFileProvider([{ user: 'alice', hash: await hashPassword('pw') }]);
  const info = (username: string | null, password: string | null) => ({
    clientId: 'c',
    username,
    password: password === null ? null : Buffer.from(password),
    remoteAddress: '127.0.0.1',
    protocol: 'mqtt/5',
    transport: 'tcp',
  });
  assert.deepEqual(await provider.authenticate(info('alice', 'pw')), { outcome: 'allow' });
  assert.deepEqual(await provider.authenticate(info('alice', 'nope')), { outcome: 'deny', reason: 0x86, detail: 'wrong password' });
  assert.deepEqual(await provider.authenticate(info('alice', null)), { outcome: 'deny', reason: 0x86, detail: 'no password given' });
  assert.deepEqual(await provider.authenticate(info('mallory', 'pw')), { outcome: 'ignore' });
  assert.deepEqual(await provider.authenticate(info(null, null)), { outcome: 'ignore' });
});
