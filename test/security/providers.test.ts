/** Providers without a broker: device keys, JWT, the HTTP hook's answers, the chain, caches. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import type { ConnectInfo } from '../../src/core/auth.js';
import { AuthChain } from '../../src/security/chain.js';
import { DeviceKeysProvider, deviceSignature, hmacSha1, parseDeviceKeys } from '../../src/security/device-signature.js';
import { JwtProvider } from '../../src/security/jwt.js';
import { parseAnswer } from '../../src/security/http-hook.js';
import { DecisionCache, LruCache } from '../../src/security/decision-cache.js';
import { certificateProvider } from '../../src/security/certificate.js';
import { p2pTarget } from '../../src/security/policy.js';
import { ConfigError } from '../../src/errors.js';
import type { AuthProvider, ProviderDecision } from '../../src/security/provider.js';

const info = (clientId: string, username: string | null, password: string | null, extra: Partial<ConnectInfo> = {}): ConnectInfo => ({
  clientId,
  username,
  password: password === null ? null : Buffer.from(password),
  remoteAddress: '10.0.0.1',
  protocol: 'mqtt/5',
  transport: 'tcp',
  ...extra,
});

const KEYS = JSON.stringify({
  instanceId: 'inst-1',
  accessKeys: { AK1: 'ak-secret' },
  deviceCredentials: { CK1: { secret: 'dev-secret', clientId: 'GID_car@@@car-7' } },
  tokens: {
    'tok-r': { accessKey: 'AK1', actions: 'R', topics: ['fleet/car-7/cmd'] },
    'tok-w': { accessKey: 'AK1', actions: 'W', topics: ['fleet/car-7/up'] },
    'tok-old': { accessKey: 'AK1', actions: 'RW', topics: ['x'], expiresAt: '2001-01-01T00:00:00Z' },
  },
});

test('device keys: signature login is T:Base64(HMAC-SHA1(secret, "T:clientId")), identity = access key', () => {
  const p = new DeviceKeysProvider(parseDeviceKeys(KEYS));
  const cid = 'GID_car@@@car-1';
  assert.deepEqual(p.authenticate(info(cid, 'Signature|AK1|inst-1', deviceSignature('ak-secret', cid))), { outcome: 'allow', username: 'AK1' });
  // RFC 2202 HMAC-SHA1 test case 2, in Base64.
  assert.equal(hmacSha1('Jefe', 'what do ya want for nothing?'), Buffer.from('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79', 'hex').toString('base64'));
  assert.equal(deviceSignature('Jefe', 'what do ya want for nothing?'.slice(2), 1700000000000), `1700000000000:${hmacSha1('Jefe', '1700000000000:at do ya want for nothing?')}`);
  const wrong = p.authenticate(info(cid, 'Signature|AK1|inst-1', deviceSignature('ak-secret', 'other-id')));
  assert.equal(wrong.outcome === 'deny' && wrong.reason, 0x86);
  const otherInstance = p.authenticate(info(cid, 'Signature|AK1|inst-2', deviceSignature('ak-secret', cid)));
  assert.equal(otherInstance.outcome === 'deny' && otherInstance.reason, 0x87);
  assert.deepEqual(p.authenticate(info(cid, 'alice', 'pw')), { outcome: 'ignore' }, 'other usernames pass on');
});

test('device keys: a signature works only near the time it was made; the old untimed form is refused, naming the new one', () => {
  let now = 1_800_000_000_000;
  const p = new DeviceKeysProvider(parseDeviceKeys(KEYS), () => now, 300_000);
  const cid = 'GID_car@@@car-1';
  const password = deviceSignature('ak-secret', cid, now);
  assert.equal(p.authenticate(info(cid, 'Signature|AK1|inst-1', password)).outcome, 'allow', 'fresh');
  now += 299_000;
  assert.equal(p.authenticate(info(cid, 'Signature|AK1|inst-1', password)).outcome, 'allow', 'within the window');
  now += 2_000;
  assert.deepEqual(p.authenticate(info(cid, 'Signature|AK1|inst-1', password)), {
    outcome: 'deny',
    reason: 0x86,
    detail: 'the signature was made 301 s away from the server clock (--device-signature-window 300 s): sign at each connect',
  });
  assert.equal(p.authenticate(info(cid, 'Signature|AK1|inst-1', deviceSignature('ak-secret', cid, now + 400_000))).outcome, 'deny', 'from the future too');
  const untimed = p.authenticate(info(cid, 'Signature|AK1|inst-1', hmacSha1('ak-secret', cid)));
  assert.ok(
    untimed.outcome === 'deny' && untimed.reason === 0x86 && untimed.detail.includes('the password must be T:S, T the time in ms since the epoch, S = Base64(HMAC-SHA1(secret, T:clientId))'),
    JSON.stringify(untimed),
  );
  const forgedTime = `${now}:${password.split(':')[1]}`;
  assert.deepEqual(p.authenticate(info(cid, 'Signature|AK1|inst-1', forgedTime)), { outcome: 'deny', reason: 0x86, detail: 'wrong signature' }, 'a new T on an old signature');
  const credential = hmacSha1('dev-secret', 'GID_car@@@car-7');
  assert.equal(p.authenticate(info('GID_car@@@car-7', 'DeviceCredential|CK1|inst-1', credential)).outcome, 'deny', 'device credentials: the untimed form too');
});

test('device keys: a token login carries the first expiry of its tokens', () => {
  const keys = JSON.stringify({
    accessKeys: { AK1: 's' },
    tokens: { a: { accessKey: 'AK1', actions: 'R', topics: ['x'], expiresAt: 2_000_000_000 }, b: { accessKey: 'AK1', actions: 'W', topics: ['y'], expiresAt: 1_900_000_000 } },
  });
  const p = new DeviceKeysProvider(parseDeviceKeys(keys), () => 1_800_000_000_000);
  assert.deepEqual(p.authenticate(info('c', 'Token|AK1|x', 'R|a|W|b')), { outcome: 'allow', username: 'AK1', grants: { publish: ['y'], subscribe: ['x'] }, expiresAt: 1_900_000_000_000 });
});

test('device keys: a device credential works only for its client id', () => {
  const p = new DeviceKeysProvider(parseDeviceKeys(KEYS));
  assert.equal(p.authenticate(info('GID_car@@@car-7', 'DeviceCredential|CK1|inst-1', deviceSignature('dev-secret', 'GID_car@@@car-7'))).outcome, 'allow');
  const stolen = p.authenticate(info('GID_car@@@car-8', 'DeviceCredential|CK1|inst-1', deviceSignature('dev-secret', 'GID_car@@@car-8')));
  assert.equal(stolen.outcome === 'deny' && stolen.reason, 0x87);
});

test("device keys: R|token|W|token gives exactly the tokens' topics; expired or misused tokens are refused", () => {
  const p = new DeviceKeysProvider(parseDeviceKeys(KEYS));
  const ok = p.authenticate(info('c', 'Token|AK1|inst-1', 'R|tok-r|W|tok-w'));
  assert.deepEqual(ok, { outcome: 'allow', username: 'AK1', grants: { publish: ['fleet/car-7/up'], subscribe: ['fleet/car-7/cmd'] } });
  const expired = p.authenticate(info('c', 'Token|AK1|inst-1', 'RW|tok-old'));
  assert.deepEqual(expired, { outcome: 'deny', reason: 0x86, detail: 'token expired' });
  const misuse = p.authenticate(info('c', 'Token|AK1|inst-1', 'W|tok-r'));
  assert.equal(misuse.outcome === 'deny' && misuse.reason, 0x87, 'a read token cannot publish');
  assert.equal(p.authenticate(info('c', 'Token|AK1|inst-1', 'R|nope')).outcome, 'deny');
});

test('device keys file: mistakes are reported by entry', () => {
  assert.throws(
    () => parseDeviceKeys('{', 'k.json'),
    (e: unknown) => e instanceof ConfigError && /k.json is not valid JSON/.test(e.message),
  );
  assert.throws(() => parseDeviceKeys('{"accessKeys":{"A":""}}'), /access key "A" needs a non-empty secret/);
  assert.throws(() => parseDeviceKeys('{"accessKeys":{"A":"s"},"tokens":{"t":{"accessKey":"B","topics":["x"]}}}'), /"accessKey" must name one of/);
  assert.throws(() => parseDeviceKeys('{"accessKeys":{"A":"s"},"tokens":{"t":{"accessKey":"A","topics":["a/#/b"]}}}'), /valid topic filters/);
});

const SECRET = 'a-shared-secret-of-at-least-32-bytes!';

test('JWT HS256: valid token admits with its topic claims; exp, signature and clientid are checked', async () => {
  const p = await JwtProvider.create(SECRET, undefined);
  const key = new TextEncoder().encode(SECRET);
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const sign = (claims: Record<string, unknown>, at: number = exp) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(at).sign(key);
  const good = await sign({ clientid: 'dev1', publish: ['d/dev1/up'], subscribe: ['d/dev1/down/#'] });
  // A token that names nobody gives no identity, whatever user name comes with it.
  assert.deepEqual(await p.authenticate(info('dev1', 'dev1', good)), { outcome: 'allow', username: null, grants: { publish: ['d/dev1/up'], subscribe: ['d/dev1/down/#'] }, expiresAt: exp * 1000 });
  const bob = await sign({ sub: 'bob' });
  assert.deepEqual(await p.authenticate(info('c', 'bob', bob)), { outcome: 'allow', username: 'bob', grants: null, expiresAt: exp * 1000 });
  assert.deepEqual(await p.authenticate(info('c', 'admin', bob)), { outcome: 'deny', reason: 0x87, detail: 'JWT is for "bob", not for the user name "admin"' });
  assert.deepEqual(await p.authenticate(info('c', 'bob', await sign({ username: 'carol', sub: 'bob' }))), { outcome: 'deny', reason: 0x87, detail: 'JWT is for "carol", not for the user name "bob"' });
  assert.equal(((await p.authenticate(info('c', null, await sign({ sub: 7 })))) as { outcome: string }).outcome, 'deny', 'a sub that is not a string');
  const expired = await sign({}, Math.floor(Date.now() / 1000) - 60);
  assert.deepEqual(await p.authenticate(info('dev1', 'u', expired)), { outcome: 'deny', reason: 0x86, detail: 'JWT expired' });
  const forged = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('another-secret-that-is-32-bytes-long'));
  assert.equal(((await p.authenticate(info('dev1', 'u', forged))) as { outcome: string }).outcome, 'deny');
  const elsewhere = (await p.authenticate(info('dev2', 'u', good))) as ProviderDecision;
  assert.equal(elsewhere.outcome === 'deny' && elsewhere.reason, 0x87, 'a token for another client id');
  assert.deepEqual(await p.authenticate(info('dev1', 'u', 'plain password')), { outcome: 'ignore' });
  await assert.rejects(JwtProvider.create('short', undefined), /at least 32 bytes/);
});

test('JWT without exp: refused by default (it would never expire), admitted with --no-jwt-require-exp and no deadline', async () => {
  const forever = await new SignJWT({ sub: 'dev1' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
  const strict = await JwtProvider.create(SECRET, undefined);
  assert.deepEqual(await strict.authenticate(info('c', null, forever)), { outcome: 'deny', reason: 0x86, detail: 'JWT has no exp claim (required: --jwt-require-exp)' });
  const relaxed = await JwtProvider.create(SECRET, undefined, false);
  assert.deepEqual(await relaxed.authenticate(info('c', null, forever)), { outcome: 'allow', username: 'dev1', grants: null });
});

test('JWT RS256 with a PEM public key; HS256 tokens are not accepted then', async () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const dir = mkdtempSync('/tmp/junction-jwt-');
  try {
    const pemFile = `${dir}/pub.pem`;
    writeFileSync(pemFile, publicKey.export({ type: 'spki', format: 'pem' }));
    const p = await JwtProvider.create(undefined, pemFile);
    const signing = await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'RS256');
    const exp = Math.floor(Date.now() / 1000) + 300;
    const token = await new SignJWT({ sub: 'dev9' }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime(exp).sign(signing);
    assert.deepEqual(await p.authenticate(info('dev9', null, token)), { outcome: 'allow', username: 'dev9', grants: null, expiresAt: exp * 1000 });
    const hs = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
    assert.equal(((await p.authenticate(info('dev9', null, hs))) as { outcome: string }).outcome, 'deny');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('HTTP hook answers: allow (with topics and username), deny, ignore; anything else is a failure', () => {
  assert.deepEqual(parseAnswer('{"result":"allow"}'), { outcome: 'allow', grants: null });
  assert.deepEqual(parseAnswer('{"result":"allow","username":"d1","publish":["a"],"subscribe":[]}'), { outcome: 'allow', username: 'd1', grants: { publish: ['a'], subscribe: [] } });
  assert.equal(parseAnswer('{"result":"deny"}')?.outcome, 'deny');
  assert.equal(parseAnswer('{"result":"ignore"}')?.outcome, 'ignore');
  for (const bad of ['', 'allow', '{"result":"yes"}', '{"result":"allow","publish":["a/#/b"]}', 'null']) assert.equal(parseAnswer(bad), null, bad);
});

test('chain: the first allow or deny decides, in order; async providers keep the order', async () => {
  const fixed = (name: string, d: ProviderDecision, async = false): AuthProvider => ({ name, authenticate: () => (async ? Promise.resolve(d) : d) });
  const allow = { outcome: 'allow', username: 'x' } as const;
  const deny = { outcome: 'deny', reason: 0x86, detail: 'no' } as const;
  const ignore = { outcome: 'ignore' } as const;
  assert.deepEqual(new AuthChain([fixed('a', ignore), fixed('b', allow)], false).authenticate(info('c', 'u', 'p')), { ok: true, reason: 0, username: 'x', provider: 'b' });
  assert.deepEqual(await new AuthChain([fixed('a', ignore, true), fixed('b', deny), fixed('c', allow)], false).authenticate(info('c', 'u', 'p')), { ok: false, reason: 0x86, detail: 'no' });
  assert.deepEqual(new AuthChain([fixed('a', ignore)], false).authenticate(info('c', 'u', 'p')), { ok: false, reason: 0x86, detail: 'no provider accepted the credentials' });
  assert.deepEqual(new AuthChain([fixed('a', ignore)], false).authenticate(info('c', null, null)), { ok: false, reason: 0x87, detail: 'anonymous clients are not allowed' });
  assert.deepEqual(new AuthChain([fixed('a', ignore)], true).authenticate(info('c', null, null)), { ok: true, reason: 0 });
});

test('certificate identity becomes the username; links without one pass on', () => {
  assert.deepEqual(certificateProvider.authenticate(info('c', 'ignored', null, { peerIdentity: 'device-42' })), { outcome: 'allow', username: 'device-42' });
  assert.deepEqual(certificateProvider.authenticate(info('c', 'u', 'p', { peerIdentity: null })), { outcome: 'ignore' });
  assert.deepEqual(certificateProvider.authenticate(info('c', 'u', 'p')), { outcome: 'ignore' });
});

test('caches stay bounded: LRU evicts the oldest and expires by TTL; the per-connection cache starts over', () => {
  let now = 0;
  const lru = new LruCache<number>(2, 100, () => now);
  lru.set('a', 1);
  lru.set('b', 2);
  assert.equal(lru.get('a'), 1, 'a is now the most recent');
  lru.set('c', 3);
  assert.equal(lru.get('b'), undefined, 'b was the least recently used');
  assert.equal(lru.size, 2);
  now = 150;
  assert.equal(lru.get('a'), undefined, 'expired');
  const d = new DecisionCache(2);
  d.set('x', true);
  d.set('y', false);
  d.set('z', true);
  assert.equal(d.size, 1);
  assert.equal(d.get('z'), true);
});

test('point-to-point topics: {parent}/p2p/{clientId}', () => {
  assert.equal(p2pTarget('app', 'app/p2p/GID@@@d1'), 'GID@@@d1');
  assert.equal(p2pTarget('app', 'other/p2p/d1'), null);
  assert.equal(p2pTarget('app', 'app/p2p/'), null);
  assert.equal(p2pTarget('app', 'apps/p2p/d1'), null);
  assert.equal(p2pTarget('+', 'any/p2p/d1'), 'd1');
  assert.equal(p2pTarget(null, 'app/p2p/d1'), null);
});
