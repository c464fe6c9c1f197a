/** ACL file: mosquitto syntax, each rule type, patterns, deny precedence, $SYS, grants. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AclAuthorizer, GrantsFirstAuthorizer, OPEN_AUTHORIZER, parseAcl } from '../../src/security/acl-file.js';
import { expandPattern, filtersIntersect, ruleCoversFilter, ruleMatchesTopic } from '../../src/security/topic-rules.js';
import { ConfigError } from '../../src/errors.js';

const ACL = `
# anonymous clients
topic read public/#

user alice
topic readwrite home/#
topic deny home/secret
topic write alerts
topic read $SYS/#

user bob
topic home/bob/#

pattern write devices/%c/up
pattern read devices/%u/down/#
`;

const acl = new AclAuthorizer(parseAcl(ACL));

test('topic read|write|readwrite and the default readwrite', () => {
  assert.equal(acl.canPublish('c1', 'alice', 'home/kitchen'), true, 'readwrite allows publish');
  assert.equal(acl.canSubscribe('c1', 'alice', 'home/kitchen/+'), true, 'readwrite allows subscribe');
  assert.equal(acl.canPublish('c1', 'alice', 'alerts'), true, 'write allows publish');
  assert.equal(acl.canSubscribe('c1', 'alice', 'alerts'), false, 'write does not allow subscribe');
  assert.equal(acl.canSubscribe('c1', null, 'public/news'), true, 'read allows subscribe');
  assert.equal(acl.canPublish('c1', null, 'public/news'), false, 'read does not allow publish');
  assert.equal(acl.canPublish('c1', 'bob', 'home/bob/lamp'), true, 'no access word = readwrite');
  assert.equal(acl.canSubscribe('c1', 'bob', 'home/bob/#'), true);
});

test('deny wins over a wider grant, also for subscriptions overlapping it', () => {
  assert.equal(acl.canPublish('c1', 'alice', 'home/secret'), false);
  assert.equal(acl.canSubscribe('c1', 'alice', 'home/secret'), false);
  assert.equal(acl.canSubscribe('c1', 'alice', 'home/#'), false, 'home/# would receive home/secret');
  assert.equal(acl.canSubscribe('c1', 'alice', 'home/+/x'), true, 'home/+/x never matches home/secret');
});

test('rules before the first user line are for anonymous clients only; users do not inherit them', () => {
  assert.equal(acl.canSubscribe('c1', 'bob', 'public/news'), false);
  assert.equal(acl.canPublish('c1', 'mallory', 'home/x'), false, 'unknown users have only patterns');
});

test('pattern rules apply to every client with %c and %u filled in', () => {
  assert.equal(acl.canPublish('dev7', 'bob', 'devices/dev7/up'), true);
  assert.equal(acl.canPublish('dev7', 'bob', 'devices/dev8/up'), false);
  assert.equal(acl.canSubscribe('dev7', 'bob', 'devices/bob/down/#'), true);
  assert.equal(acl.canSubscribe('dev7', null, 'devices/bob/down/#'), false, '%u never matches an anonymous client');
  assert.equal(acl.canPublish('a/b', 'bob', 'devices/a/b/up'), false, 'a client id with / does not widen the pattern');
  assert.equal(expandPattern('d/%c/x', '#', null), null, 'a client id # is refused');
});

test('subscriptions must lie inside a grant: wider filters are refused', () => {
  assert.equal(acl.canSubscribe('c1', 'bob', 'home/#'), false);
  assert.equal(acl.canSubscribe('c1', 'bob', '#'), false);
  assert.equal(acl.canSubscribe('c1', 'bob', '$share/g/home/bob/#'), true, 'a shared subscription is judged by its filter');
});

test('$SYS is reached only by rules that start with $', () => {
  assert.equal(acl.canSubscribe('c1', 'alice', '$SYS/brokers/#'), true);
  const all = new AclAuthorizer(parseAcl('user root\ntopic readwrite #\n'));
  assert.equal(all.canSubscribe('c', 'root', '$SYS/#'), false, '# does not grant $SYS');
  assert.equal(all.canPublish('c', 'root', '$SYS/x'), false);
  assert.equal(all.canSubscribe('c', 'root', 'anything/at/all'), true);
});

test('without an ACL file everything is open except publishing into $SYS/brokers/', () => {
  assert.equal(OPEN_AUTHORIZER.canPublish('c', null, 'a/b'), true);
  assert.equal(OPEN_AUTHORIZER.canPublish('c', null, '$SYS/brokers/n/clients/x/connected'), false);
  assert.equal(OPEN_AUTHORIZER.canSubscribe('c', null, '$SYS/#'), true);
});

test('token and JWT topic lists decide alone for the clients that have them', () => {
  const auth = new GrantsFirstAuthorizer(acl);
  const grants = { publish: ['fleet/+/telemetry'], subscribe: ['fleet/car1/#'] };
  assert.equal(auth.canPublish('c', 'alice', 'fleet/car1/telemetry', grants), true);
  assert.equal(auth.canPublish('c', 'alice', 'home/kitchen', grants), false, 'the ACL grant of alice does not apply');
  assert.equal(auth.canSubscribe('c', 'alice', 'fleet/car1/cmd', grants), true);
  assert.equal(auth.canSubscribe('c', 'alice', 'fleet/#', grants), false);
  assert.equal(auth.canPublish('c', 'alice', 'home/kitchen', null), true, 'no grants: the ACL decides');
});

test('malformed ACL lines are refused with file and line', () => {
  const bad = (text: string, re: RegExp): void =>
    assert.throws(
      () => parseAcl(text, 'acl.conf'),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
    );
  bad('topic read\n', /acl.conf line 1: the rule has no topic/);
  bad('\nuser\n', /line 2: "user" needs a user name/);
  bad('allow all\n', /unknown directive "allow"/);
  bad('topic read a/#/b\n', /not a valid filter/);
  // A mistyped access word once became a grant on the topic "Deny alice/secret".
  bad('user alice\ntopic readwrite alice/#\ntopic Deny alice/secret\n', /acl.conf line 3: unknown access "Deny" \(access words are lower case: "deny"\)/);
  bad('pattern rw devices/%c/up\n', /line 1: unknown access "rw"; expected read, write, readwrite or deny/);
  assert.equal(parseAcl('topic read my topic/x\n').anonymous[0]!.topic, 'my topic/x', 'a topic with a space after an access word is fine');
});

test('rule helpers: match, cover and intersect', () => {
  assert.equal(ruleMatchesTopic('a/#', 'a'), true);
  assert.equal(ruleMatchesTopic('+/x', '$SYS/x'), false);
  assert.equal(ruleCoversFilter('a/+/c', 'a/b/c'), true);
  assert.equal(ruleCoversFilter('a/+/c', 'a/+/c'), true);
  assert.equal(ruleCoversFilter('a/b/c', 'a/+/c'), false);
  assert.equal(ruleCoversFilter('a/#', 'a/#'), true);
  assert.equal(ruleCoversFilter('a/+', 'a/#'), false);
  assert.equal(filtersIntersect('a/+', 'a/#'), true);
  assert.equal(filtersIntersect('a/b', 'a/c'), false);
  assert.equal(filtersIntersect('a/b/c', 'a/b'), false);
  assert.equal(filtersIntersect('a/#', 'a'), true);
  assert.equal(filtersIntersect('#', '$SYS/x'), false);
});
