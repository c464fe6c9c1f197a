/**
 * STOMP destinations are MQTT topics, behind an optional mount point (--stomp-mount):
 *
 *   destination            MQTT topic (mount "")   MQTT topic (mount "stomp/")
 *   a/b                    a/b                     stomp/a/b
 *   /topic/a.b             a/b                     stomp/a/b      (RabbitMQ / ActiveMQ style)
 *   /topic/a.*.c           a/+/c                   stomp/a/+/c    (* = one level)
 *   /topic/a.#, /topic/a.> a/#                     stomp/a/#      (# or > = the rest)
 *   $share/g/a/+           $share/g/a/+            $share/g/stomp/a/+
 *
 * Any other destination (including `/queue/x`) is taken as the topic itself, MQTT wildcards
 * allowed in SUBSCRIBE. A MESSAGE names its destination in the style its subscription used:
 * `/topic/a.b` for a `/topic/` subscription, the topic without the mount point otherwise.
 */
import { validateTopicFilter, validateTopicName } from '../../core/topic.js';

const DOTTED_PREFIX = '/topic/';
const SHARE_PREFIX = '$share/';
const QUEUE_PREFIX = '$queue/';

/** How a client spelled its destination, so deliveries come back spelled the same way. */
export const enum DestinationStyle {
  /** the MQTT topic itself */
  Topic = 0,
  /** `/topic/a.b` */
  Dotted = 1,
}

/** A destination turned into a topic (or filter), or why it cannot be. */
export interface MappedDestination {
  readonly topic: string;
  readonly style: DestinationStyle;
  /** null when valid, else what is wrong */
  readonly error: string | null;
}

/** Maps a SEND destination to the topic it publishes to. */
export function destinationToTopic(destination: string, mount: string): MappedDestination {
  const { topic, style } = map(destination, mount, false);
  const error = destination === '' ? 'destination is empty' : validateTopicName(topic);
  return { topic, style, error: error === null ? null : `destination '${destination}' is not a topic: ${error}` };
}

/** Maps a SUBSCRIBE destination to the topic filter it subscribes to (MQTT wildcards allowed). */
export function destinationToFilter(destination: string, mount: string): MappedDestination {
  const { topic, style } = map(destination, mount, true);
  const error = destination === '' ? 'destination is empty' : validateTopicFilter(topic);
  return { topic, style, error: error === null ? null : `destination '${destination}' is not a topic filter: ${error}` };
}

/** The destination a MESSAGE carries for `topic`, in the subscription's style. */
export function topicToDestination(topic: string, mount: string, style: DestinationStyle): string {
  const inner = mount !== '' && topic.startsWith(mount) ? topic.slice(mount.length) : topic;
  if (style === DestinationStyle.Dotted) return DOTTED_PREFIX + inner.replace(/\//g, '.');
  return inner;
}

function map(destination: string, mount: string, filter: boolean): { topic: string; style: DestinationStyle } {
  if (destination.startsWith(DOTTED_PREFIX)) {
    const rest = destination.slice(DOTTED_PREFIX.length);
    const levels = rest.split('.');
    if (filter) {
      for (let i = 0; i < levels.length; i++) {
        const level = levels[i];
        if (level === '*') levels[i] = '+';
        else if (level === '>') levels[i] = '#';
      }
    }
    return { topic: rest === '' ? '' : mount + levels.join('/'), style: DestinationStyle.Dotted };
  }
  if (filter && mount !== '') {
    // The mount goes inside a shared subscription: its group name is not part of the topic.
    if (destination.startsWith(QUEUE_PREFIX)) return { topic: QUEUE_PREFIX + mount + destination.slice(QUEUE_PREFIX.length), style: DestinationStyle.Topic };
    if (destination.startsWith(SHARE_PREFIX)) {
      const slash = destination.indexOf('/', SHARE_PREFIX.length);
      if (slash !== -1) return { topic: destination.slice(0, slash + 1) + mount + destination.slice(slash + 1), style: DestinationStyle.Topic };
    }
  }
  return { topic: destination === '' ? '' : mount + destination, style: DestinationStyle.Topic };
}
