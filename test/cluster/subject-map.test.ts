/**
 * MQTT topics and filters as NATS subjects, the way nats-server's MQTT support maps them, so a
 * NATS client finds device topics where nats-server's own MQTT clients would put them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fallbackSubject, fallbackTopic, filterToSubjects, subjectToTopic, topicToSubject } from '../../src/cluster/subject-map.js';
import { queueName } from '../../src/cluster/remote-routes.js';

test("topics map as nats-server maps them: '/' is '.', '.' is '//', an empty level is '/', and back", () => {
  const cases: Array<[string, string]> = [
    ['a', 'a'],
    ['a/b/c', 'a.b.c'],
    ['v1.2/x', 'v1//2.x'],
    ['/a', '/.a'],
    ['a/', 'a./'],
    ['a//b', 'a./.b'],
    ['/', '/./'],
    ['sensors/温度/1', 'sensors.温度.1'],
    ['a*b/c>d', 'a*b.c>d'],
  ];
  for (const [topic, subject] of cases) {
    assert.equal(topicToSubject(topic), subject, `topic ${topic}`);
    assert.equal(subjectToTopic(subject), topic, `subject ${subject}`);
  }
});

test('a topic NATS cannot carry has no subject and travels on a fallback subject that gives it back', () => {
  for (const topic of ['a b', 'tab\there', 'a/*/b', 'a/>', 'nl\n']) {
    assert.equal(topicToSubject(topic), null, JSON.stringify(topic));
    const subject = fallbackSubject(topic);
    assert.match(subject, /^\$JUNCTION\.topic\.[A-Za-z0-9_-]+$/);
    assert.equal(fallbackTopic(subject), topic);
  }
});

test("filters: '+' is '*', '#' is '>' and 'x/#' also subscribes its parent level; white space cannot be expressed", () => {
  assert.deepEqual(filterToSubjects('a/+/c'), ['a.*.c']);
  assert.deepEqual(filterToSubjects('#'), ['>']);
  assert.deepEqual(filterToSubjects('a/#'), ['a.>', 'a']);
  assert.deepEqual(filterToSubjects('+/v1.0/#'), ['*.v1//0.>', '*.v1//0']);
  assert.deepEqual(filterToSubjects('a//+'), ['a./.*']);
  assert.equal(filterToSubjects('a b/#'), null);
  assert.equal(filterToSubjects('a/*'), null, "a literal '*' level would be a NATS wildcard");
});

test('queue groups are named after the share name and the filter', () => {
  assert.equal(queueName('g', 'a/+/c'), 'junction.g.a/+/c');
  assert.equal(queueName('g', 'a b/#'), `junction.g.${Buffer.from('a b/#').toString('base64url')}`);
});
