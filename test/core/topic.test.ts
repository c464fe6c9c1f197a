import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterMatches, hasWildcard, parseSharedFilter, validateTopicFilter, validateTopicName } from '../../src/core/topic.js';

test('validateTopicName accepts ordinary, $-prefixed and empty-level names', () => {
  for (const t of ['a', 'a/b', '/', '/finance', 'a//b', 'a/', '$SYS/broker', 'ünïcødé/名前']) {
    assert.equal(validateTopicName(t), null, t);
  }
});

test('validateTopicName names each problem', () => {
  assert.equal(validateTopicName(''), 'topic is empty');
  assert.equal(validateTopicName('a/+/b'), "topic contains '+' wildcard");
  assert.equal(validateTopicName('a/#'), "topic contains '#' wildcard");
  assert.equal(validateTopicName('a\u0000b'), 'topic contains U+0000');
  assert.equal(validateTopicName('x'.repeat(65536)), 'topic longer than 65535 bytes');
});

test('validateTopicName counts bytes, not UTF-16 units', () => {
  assert.equal(validateTopicName('x'.repeat(65535)), null);
  // 21846 three-byte characters = 65538 bytes although only 21846 code units.
  assert.equal(validateTopicName('€'.repeat(21846)), 'topic longer than 65535 bytes');
  assert.equal(validateTopicName('€'.repeat(21845)), null);
});

test('validateTopicFilter accepts valid filters', () => {
  for (const f of ['#', '+', 'a/#', '+/+', '/+', 'sport/tennis/+', '+/tennis/#', 'a//b', '$SYS/#', '/', 'a/+/#']) {
    assert.equal(validateTopicFilter(f), null, f);
  }
});

test('validateTopicFilter rejects misplaced wildcards with a message', () => {
  assert.equal(validateTopicFilter(''), 'filter is empty');
  assert.equal(validateTopicFilter('sport/tennis#'), "'#' must be alone in its level");
  assert.equal(validateTopicFilter('sport/#/ranking'), "'#' must be the last level");
  assert.equal(validateTopicFilter('#/a'), "'#' must be the last level");
  assert.equal(validateTopicFilter('sport+'), "'+' must be alone in its level");
  assert.equal(validateTopicFilter('a/b+c/d'), "'+' must be alone in its level");
  assert.equal(validateTopicFilter('a\u0000'), 'filter contains U+0000');
  assert.equal(validateTopicFilter('x'.repeat(65536)), 'filter longer than 65535 bytes');
});

test('validateTopicFilter checks shared subscriptions', () => {
  assert.equal(validateTopicFilter('$share/g/a/b'), null);
  assert.equal(validateTopicFilter('$share/g/#'), null);
  assert.equal(validateTopicFilter('$queue/a/+'), null);
  assert.equal(validateTopicFilter('$share//a'), 'shared subscription group is empty');
  assert.equal(validateTopicFilter('$share'), 'shared subscription group is empty');
  assert.equal(validateTopicFilter('$share/g'), 'shared subscription has no filter');
  assert.equal(validateTopicFilter('$share/g/'), 'shared subscription has no filter');
  assert.equal(validateTopicFilter('$share/g+/a'), "shared subscription group contains '+' or '#'");
  assert.equal(validateTopicFilter('$share/#/a'), "shared subscription group contains '+' or '#'");
  assert.equal(validateTopicFilter('$share/g/a/#/b'), "'#' must be the last level");
  assert.equal(validateTopicFilter('$queue/'), 'shared subscription has no filter');
  assert.equal(validateTopicFilter('$queue'), 'shared subscription has no filter');
  // Only the exact first level `$share` marks a shared subscription.
  assert.equal(validateTopicFilter('$shared/x'), null);
});

test('parseSharedFilter splits group and filter', () => {
  assert.deepEqual(parseSharedFilter('$share/g/a/b'), { group: 'g', filter: 'a/b' });
  assert.deepEqual(parseSharedFilter('$share/grp/#'), { group: 'grp', filter: '#' });
  assert.deepEqual(parseSharedFilter('$queue/a/b'), { group: '$queue', filter: 'a/b' });
  assert.equal(parseSharedFilter('a/b'), null);
  assert.equal(parseSharedFilter('$SYS/#'), null);
  assert.equal(parseSharedFilter('$share/g'), null);
  assert.equal(parseSharedFilter('$share//a'), null);
  assert.equal(parseSharedFilter('$share/g/'), null);
  assert.equal(parseSharedFilter('$queue/'), null);
});

test('hasWildcard', () => {
  assert.equal(hasWildcard('a/b'), false);
  assert.equal(hasWildcard('a/+'), true);
  assert.equal(hasWildcard('#'), true);
  assert.equal(hasWildcard('$SYS/x'), false);
});

test('filterMatches follows the spec examples', () => {
  const cases: Array<[string, string, boolean]> = [
    ['sport/#', 'sport', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['+', '$SYS', false],
    ['#', '$SYS/broker', false],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false],
    ['$SYS/#', '$SYS/monitor/Clients', true],
    ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
    ['#', 'a/b/c', true],
    ['#', '/', true],
    ['a//b', 'a//b', true],
    ['a/+/b', 'a//b', true],
    ['a/b', 'a/b/', false],
    ['a/b/#', 'a/b/', true],
    ['a/#', 'ab', false],
    ['+/#', 'a', true],
  ];
  for (const [f, t, want] of cases) assert.equal(filterMatches(f, t), want, `${f} vs ${t}`);
});
