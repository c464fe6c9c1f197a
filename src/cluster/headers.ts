/**
 * A message's MQTT side in NATS headers, the payload staying the raw payload, so NATS-native
 * clients read and write device messages without Junction in between (docs/CLUSTER.md lists
 * the names). Every header is optional: a message from a plain NATS publisher arrives at QoS 0,
 * not retained, without properties.
 */
import { headers, type Msg, type MsgHdrs } from '@nats-io/transport-node';
import { rawBytes, rawHeaderLength } from './nats-internals.js';
import { Message, type MessageProperties, type QoS, type UserProperty } from '../core/message.js';

/** The node that published it (a node ignores its own messages coming back). */
export const H_NODE = 'Junction-Node';
export const H_QOS = 'Junction-QoS';
export const H_RETAIN = 'Junction-Retain';
/** The topic, on the retained stream (whose subjects encode it). */
export const H_TOPIC = 'Junction-Topic';
/** MQTT 5 Message Expiry Interval: seconds left when it was sent. */
export const H_EXPIRY = 'MQTT-Message-Expiry-Interval';
export const H_FORMAT = 'MQTT-Payload-Format-Indicator';
export const H_CONTENT_TYPE = 'MQTT-Content-Type';
export const H_RESPONSE_TOPIC = 'MQTT-Response-Topic';
/** base64 */
export const H_CORRELATION = 'MQTT-Correlation-Data';
/** JSON array of [key, value] pairs, in order (a key may repeat). */
export const H_USER_PROPERTIES = 'MQTT-User-Properties';
/** '1': the message is in the journal too (--cluster-durable-qos), so journal-fed sessions take it from there. */
export const H_JOURNAL = 'Junction-Journal';
/** The publisher's client id, on journal messages (No Local). */
export const H_ORIGIN = 'Junction-Origin';
/** When the publisher's node took it (ms since the epoch), on journal messages. */
export const H_TIME = 'Junction-Time';
/** A node whose sessions already had the message (written to the journal after a NATS outage). */
export const H_SKIP_NODE = 'Junction-Skip-Node';
/** A QoS 2 message's id, the same on every copy the node sends, so a copy sent again is dropped. */
export const H_MSG_ID = 'Junction-Msg-Id';
/** A journal record's id (JetStream's duplicate check); the same on every write of one message. */
export const H_JOURNAL_ID = 'Nats-Msg-Id';
/** The client a point-to-point message is for. */
export const H_TO = 'Junction-To';
/** The target's downlink topic the publisher's node checked the publisher may publish on. */
export const H_DOWNLINK = 'Junction-Downlink';

/**
 * True when `msg` says nothing a header would carry beyond its node: QoS 0, not retained, no
 * expiry, no properties. Such a message travels as a plain PUB, as a NATS publisher would send
 * it: no header block to build, encode and parse again for the most common device message.
 */
export function plainMessage(msg: Message): boolean {
  return msg.qos === 0 && bareMessage(msg);
}

/** True when `msg` says nothing a header would carry beyond its node and QoS: not retained, no expiry, no properties. */
export function bareMessage(msg: Message): boolean {
  if (msg.retain || msg.expiresAt !== 0) return false;
  const p = msg.properties;
  return (
    p === null ||
    (p.payloadFormatIndicator === undefined &&
      p.contentType === undefined &&
      p.responseTopic === undefined &&
      p.correlationData === undefined &&
      (p.userProperties === undefined || p.userProperties.length === 0))
  );
}

/**
 * The headers of a bare QoS 1 message from node `node`, encoded once: nats.js's publish asks a
 * MsgHdrs for encode() alone, which would otherwise build and encode the same text for each one.
 */
export function bareQos1Headers(node: string): MsgHdrs {
  const h = headers();
  h.set(H_NODE, node);
  h.set(H_QOS, '1');
  // nats.js 3.x's MsgHdrsImpl; its publish calls encode(), which the public type does not show.
  const impl = h as unknown as { encode?: () => Uint8Array };
  if (typeof impl.encode === 'function') {
    const bytes = impl.encode();
    impl.encode = () => bytes;
  }
  return h;
}

/** The headers of `msg` as node `node` sends it; `now` for the remaining expiry. */
export function messageHeaders(msg: Message, node: string, now: number, topic: string | null = null): MsgHdrs {
  const h = headers();
  h.set(H_NODE, node);
  if (msg.qos !== 0) h.set(H_QOS, msg.qos === 1 ? '1' : '2');
  if (msg.retain) h.set(H_RETAIN, '1');
  if (topic !== null) h.set(H_TOPIC, topic);
  if (msg.expiresAt !== 0) h.set(H_EXPIRY, String(msg.remainingExpiry(now)));
  const p = msg.properties;
  if (p !== null) {
    if (p.payloadFormatIndicator !== undefined) h.set(H_FORMAT, String(p.payloadFormatIndicator));
    if (p.contentType !== undefined) h.set(H_CONTENT_TYPE, p.contentType);
    if (p.responseTopic !== undefined) h.set(H_RESPONSE_TOPIC, p.responseTopic);
    if (p.correlationData !== undefined) h.set(H_CORRELATION, p.correlationData.toString('base64'));
    if (p.userProperties !== undefined && p.userProperties.length > 0) h.set(H_USER_PROPERTIES, JSON.stringify(p.userProperties.map((u) => [u.key, u.value])));
  }
  return h;
}

/** What a message's headers say; empty strings for absent ones. */
export interface HeaderFields {
  node: string;
  qos: string;
  retain: string;
  topic: string;
  expiry: string;
  format: string;
  contentType: string;
  responseTopic: string;
  correlation: string;
  userProperties: string;
  journal: string;
  origin: string;
  time: string;
  skipNode: string;
  msgId: string;
  journalId: string;
  to: string;
  downlink: string;
}

const fields: HeaderFields = {
  node: '',
  qos: '',
  retain: '',
  topic: '',
  expiry: '',
  format: '',
  contentType: '',
  responseTopic: '',
  correlation: '',
  userProperties: '',
  journal: '',
  origin: '',
  time: '',
  skipNode: '',
  msgId: '',
  journalId: '',
  to: '',
  downlink: '',
};

/** Empties the reused record. */
function cleared(): HeaderFields {
  const f = fields;
  f.node = f.qos = f.retain = f.topic = f.expiry = f.format = f.contentType = f.responseTopic = f.correlation = f.userProperties = '';
  f.journal = f.origin = f.time = f.skipNode = f.msgId = f.journalId = f.to = f.downlink = '';
  return f;
}

/** Takes one header into `f`: the first non-empty value of a name counts, unknown names are ignored. */
function take(f: HeaderFields, key: string, v: string): void {
  switch (key) {
    case H_NODE:
      if (f.node === '') f.node = v;
      break;
    case H_QOS:
      if (f.qos === '') f.qos = v;
      break;
    case H_RETAIN:
      if (f.retain === '') f.retain = v;
      break;
    case H_TOPIC:
      if (f.topic === '') f.topic = v;
      break;
    case H_EXPIRY:
      if (f.expiry === '') f.expiry = v;
      break;
    case H_FORMAT:
      if (f.format === '') f.format = v;
      break;
    case H_CONTENT_TYPE:
      if (f.contentType === '') f.contentType = v;
      break;
    case H_RESPONSE_TOPIC:
      if (f.responseTopic === '') f.responseTopic = v;
      break;
    case H_CORRELATION:
      if (f.correlation === '') f.correlation = v;
      break;
    case H_USER_PROPERTIES:
      if (f.userProperties === '') f.userProperties = v;
      break;
    case H_JOURNAL:
      if (f.journal === '') f.journal = v;
      break;
    case H_ORIGIN:
      if (f.origin === '') f.origin = v;
      break;
    case H_TIME:
      if (f.time === '') f.time = v;
      break;
    case H_SKIP_NODE:
      if (f.skipNode === '') f.skipNode = v;
      break;
    case H_MSG_ID:
      if (f.msgId === '') f.msgId = v;
      break;
    case H_JOURNAL_ID:
      if (f.journalId === '') f.journalId = v;
      break;
    case H_TO:
      if (f.to === '') f.to = v;
      break;
    case H_DOWNLINK:
      if (f.downlink === '') f.downlink = v;
      break;
  }
}

/**
 * Reads every header in one pass into a reused record, valid until the next call (MsgHdrs.get
 * builds a list of every key on each call).
 */
export function readHeaders(h: MsgHdrs | undefined): HeaderFields {
  const f = cleared();
  if (h === undefined) return f;
  for (const [key, values] of h) take(f, key, values[0] ?? '');
  return f;
}

const STATUS_LINE = 'NATS/1.0';

/**
 * readHeaders for a received message, from its raw header block: nats.js would build a MsgHdrs
 * (a Map of arrays, every key checked and canonicalised) for each message, the largest cost of a
 * message from another node. Falls back to nats.js for what this reader does not take (a status
 * line with a code, a nats.js without these fields).
 */
export function readMsgHeaders(m: Msg): HeaderFields {
  const data = rawBytes(m);
  const hdr = data === null ? null : rawHeaderLength(m);
  if (data === null || hdr === null || hdr > data.length) return readHeaders(m.headers);
  const f = cleared();
  if (hdr <= 0) return f;
  const text = Buffer.prototype.utf8Slice.call(data, 0, hdr);
  const at = text.indexOf('\r\n');
  if (at === -1) return readHeaders(m.headers);
  // The common first line is exactly "NATS/1.0": checked without a substring per message.
  if ((at !== STATUS_LINE.length || !text.startsWith(STATUS_LINE)) && text.slice(0, at).trim() !== STATUS_LINE) return readHeaders(m.headers);
  // Lines "Name: value" up to the empty one; nats.js skips any line without a colon, and so does this.
  for (let start = at + 2; start < text.length; ) {
    let end = text.indexOf('\r\n', start);
    if (end === -1) end = text.length;
    const colon = text.indexOf(':', start);
    if (colon !== -1 && colon < end) take(f, text.slice(start, colon), text.slice(colon + 1, end).trim());
    start = end + 2;
  }
  return f;
}

/**
 * The Message for `topic` and `payload` with these header fields; `sentAt` (ms) is when its
 * expiry started counting (now for a live message, the stream's time for a stored one).
 */
export function messageFrom(topic: string, payload: Buffer, f: HeaderFields, sentAt: number, origin: string | null): Message {
  const qos: QoS = f.qos === '1' ? 1 : f.qos === '2' ? 2 : 0;
  let expiresAt = 0;
  if (f.expiry !== '') {
    const seconds = Number(f.expiry);
    if (Number.isFinite(seconds) && seconds >= 0) expiresAt = sentAt + seconds * 1000;
  }
  let props: MessageProperties | null = null;
  if (f.format === '0' || f.format === '1') (props ??= {}).payloadFormatIndicator = f.format === '1' ? 1 : 0;
  if (f.contentType !== '') (props ??= {}).contentType = f.contentType;
  if (f.responseTopic !== '') (props ??= {}).responseTopic = f.responseTopic;
  if (f.correlation !== '') (props ??= {}).correlationData = Buffer.from(f.correlation, 'base64');
  if (f.userProperties !== '') {
    const pairs = parseUserProperties(f.userProperties);
    if (pairs !== null) (props ??= {}).userProperties = pairs;
  }
  return new Message(topic, payload, qos, f.retain === '1', props, expiresAt, origin);
}

function parseUserProperties(text: string): UserProperty[] | null {
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value)) return null;
    const out: UserProperty[] = [];
    for (const pair of value) {
      if (Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string') out.push({ key: pair[0], value: pair[1] });
    }
    return out;
  } catch {
    // A NATS-native publisher's malformed header: the message goes on without user properties.
    return null;
  }
}
