/**
 * The JSON envelope of a rule with `"payload": "json"`: the message with its metadata, so a
 * backend consumer learns who published what, where and how. Forwarded:
 *   {"clientid", "username", "topic", "qos", "retain", "timestamp" (ms), "payload" (base64),
 *    "properties": {"contentType", "responseTopic", "correlationData" (base64),
 *                   "payloadFormatIndicator", "userProperties": [[key, value], ...]}}
 * Consumed records in this format give the payload and properties of the MQTT publish.
 */
import type { Message, MessageProperties, UserProperty } from '../core/message.js';

/** The envelope of a forwarded message, as bytes. */
export function encodeEnvelope(msg: Message, username: string, now: number): Buffer {
  const p = msg.properties;
  const envelope: Record<string, unknown> = {
    clientid: msg.origin ?? '',
    username,
    topic: msg.topic,
    qos: msg.qos,
    retain: msg.retain,
    timestamp: now,
    payload: msg.payload.toString('base64'),
  };
  if (p !== null) {
    const props: Record<string, unknown> = {};
    if (p.contentType !== undefined) props['contentType'] = p.contentType;
    if (p.responseTopic !== undefined) props['responseTopic'] = p.responseTopic;
    if (p.correlationData !== undefined) props['correlationData'] = p.correlationData.toString('base64');
    if (p.payloadFormatIndicator !== undefined) props['payloadFormatIndicator'] = p.payloadFormatIndicator;
    if (p.userProperties !== undefined) props['userProperties'] = p.userProperties.map((u) => [u.key, u.value]);
    envelope['properties'] = props;
  }
  return Buffer.from(JSON.stringify(envelope));
}

/** What a consumed envelope gives the publish. */
export interface Unwrapped {
  payload: Buffer;
  properties: MessageProperties | null;
}

/** Reads a consumed envelope; throws an Error naming the bad field. */
export function decodeEnvelope(bytes: Buffer): Unwrapped {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new Error('the record is not a JSON envelope');
  }
  if (typeof json !== 'object' || json === null) throw new Error('the envelope is not a JSON object');
  const e = json as Record<string, unknown>;
  if (typeof e['payload'] !== 'string') throw new Error('the envelope has no "payload" (base64)');
  const payload = Buffer.from(e['payload'], 'base64');
  const raw = e['properties'];
  if (raw === undefined || raw === null) return { payload, properties: null };
  if (typeof raw !== 'object') throw new Error('"properties" of the envelope is not an object');
  const r = raw as Record<string, unknown>;
  const properties: MessageProperties = {};
  if (typeof r['contentType'] === 'string') properties.contentType = r['contentType'];
  if (typeof r['responseTopic'] === 'string') properties.responseTopic = r['responseTopic'];
  if (typeof r['correlationData'] === 'string') properties.correlationData = Buffer.from(r['correlationData'], 'base64');
  if (r['payloadFormatIndicator'] === 0 || r['payloadFormatIndicator'] === 1) properties.payloadFormatIndicator = r['payloadFormatIndicator'];
  const users = r['userProperties'];
  if (users !== undefined) {
    if (!Array.isArray(users) || !users.every((u) => Array.isArray(u) && u.length === 2 && typeof u[0] === 'string' && typeof u[1] === 'string')) {
      throw new Error('"properties.userProperties" of the envelope must be [[key, value], ...] strings');
    }
    properties.userProperties = (users as Array<[string, string]>).map(([key, value]) => ({ key, value }));
  }
  return { payload, properties };
}

/** Record headers from MQTT 5 user properties (null when none). */
export function headersOf(props: MessageProperties | null): Array<[string, string]> | null {
  const users = props?.userProperties;
  if (users === undefined || users.length === 0) return null;
  const out: Array<[string, string]> = new Array(users.length);
  for (let i = 0; i < users.length; i++) out[i] = [users[i]!.key, users[i]!.value];
  return out;
}

/** MQTT 5 user properties from record headers (undefined when none). */
export function userPropertiesOf(headers: ReadonlyMap<string, string>): UserProperty[] | undefined {
  if (headers.size === 0) return undefined;
  const out: UserProperty[] = [];
  for (const [key, value] of headers) out.push({ key, value });
  return out;
}
