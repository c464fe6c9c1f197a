import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DestinationStyle, destinationToFilter, destinationToTopic, topicToDestination } from '../../../src/protocols/stomp/destination.js';

test('a plain destination is the MQTT topic, behind the mount point', () => {
  assert.deepEqual(destinationToTopic('a/b', ''), { topic: 'a/b', style: DestinationStyle.Topic, error: null });
  assert.equal(destinationToTopic('a/b', 'stomp/').topic, 'stomp/a/b');
  assert.equal(destinationToTopic('/queue/x', '').topic, '/queue/x');
});

test('/topic/a.b style maps dots to levels and * > # to MQTT wildcards in SUBSCRIBE', () => {
  assert.equal(destinationToTopic('/topic/a.b.c', '').topic, 'a/b/c');
  assert.equal(destinationToFilter('/topic/a.*.c', '').topic, 'a/+/c');
  assert.equal(destinationToFilter('/topic/a.#', 'm/').topic, 'm/a/#');
  assert.equal(destinationToFilter('/topic/a.>', '').topic, 'a/#');
  assert.equal(destinationToFilter('/topic/a.b', '').style, DestinationStyle.Dotted);
});

test('the mount point goes inside shared subscriptions', () => {
  assert.equal(destinationToFilter('$share/g/a/+', 'm/').topic, '$share/g/m/a/+');
  assert.equal(destinationToFilter('$queue/a', 'm/').topic, '$queue/m/a');
});

test('bad destinations are refused with the reason', () => {
  assert.match(destinationToTopic('', '').error ?? '', /destination is empty/);
  assert.match(destinationToTopic('a/+', '').error ?? '', /is not a topic: topic contains '\+' wildcard/);
  assert.match(destinationToTopic('/topic/a.#', '').error ?? '', /is not a topic/);
  assert.match(destinationToFilter('a/#/b', '').error ?? '', /'#' must be the last level/);
  assert.match(destinationToFilter('/topic/', '').error ?? '', /not a topic filter/);
});

test('MESSAGE destinations come back in the subscription style, without the mount point', () => {
  assert.equal(topicToDestination('m/a/b', 'm/', DestinationStyle.Topic), 'a/b');
  assert.equal(topicToDestination('m/a/b', 'm/', DestinationStyle.Dotted), '/topic/a.b');
  assert.equal(topicToDestination('a/b', '', DestinationStyle.Dotted), '/topic/a.b');
});
