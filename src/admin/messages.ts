/**
 * The admin API's message routes: the retained browser (list by filter, read, delete) and
 * POST /publish, which publishes as the operator (not through a client's rights), to a topic or,
 * with `clientId`, point-to-point to one client (a command to one device).
 */
import type { Broker } from '../core/broker.js';
import { Message, type MessageProperties, type QoS, type UserProperty } from '../core/message.js';
import { validateTopicFilter, validateTopicName } from '../core/topic.js';
import { ApiError, PageCollector, badParameter, json, jsonBody, notFound, pageParams, type ApiReply, type ApiRequest, type Page } from './http.js';

/** Bytes of payload a retained list shows per message. */
const PREVIEW_BYTES = 256;

/** A retained message as the API shows it. */
export interface RetainedView {
  readonly topic: string;
  readonly qos: number;
  readonly size: number;
  /** The payload as UTF-8 text when it is valid UTF-8, else base64 (see `encoding`). */
  readonly payload: string;
  readonly encoding: 'utf8' | 'base64';
  /** True when a list shows only the first bytes. */
  readonly truncated: boolean;
  /** ISO 8601, or null when it never expires. */
  readonly expiresAt: string | null;
  readonly properties: Record<string, unknown> | null;
}

/** A retained message for the API; `preview` cuts the payload to its first bytes. */
export function retainedView(msg: Message, preview: boolean): RetainedView {
  const cut = preview && msg.payload.length > PREVIEW_BYTES;
  const bytes = cut ? msg.payload.subarray(0, PREVIEW_BYTES) : msg.payload;
  const text = utf8(bytes, cut);
  return {
    topic: msg.topic,
    qos: msg.qos,
    size: msg.payload.length,
    payload: text ?? bytes.toString('base64'),
    encoding: text === null ? 'base64' : 'utf8',
    truncated: cut,
    expiresAt: msg.expiresAt === 0 ? null : new Date(msg.expiresAt).toISOString(),
    properties: msg.properties === null ? null : propertiesView(msg.properties),
  };
}

/** The bytes as text when they are valid UTF-8 (a cut may split the last character). */
function utf8(bytes: Buffer, cut: boolean): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: cut });
  } catch {
    return null;
  }
}

function propertiesView(p: MessageProperties): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p.payloadFormatIndicator !== undefined) out['payloadFormatIndicator'] = p.payloadFormatIndicator;
  if (p.contentType !== undefined) out['contentType'] = p.contentType;
  if (p.responseTopic !== undefined) out['responseTopic'] = p.responseTopic;
  if (p.correlationData !== undefined) out['correlationData'] = p.correlationData.toString('base64');
  if (p.userProperties !== undefined) out['userProperties'] = p.userProperties;
  return out;
}

/** GET /retained?topic=FILTER (default #), paged. */
export function listRetained(broker: Broker, req: ApiRequest): Page<RetainedView> {
  const { page, limit } = pageParams(req.query);
  const filter = req.query.get('topic') ?? '#';
  const problem = validateTopicFilter(filter);
  if (problem !== null) throw badParameter('topic', `not a valid topic filter: ${problem}`);
  if (filter.startsWith('$share/') || filter.startsWith('$queue/')) throw badParameter('topic', 'a shared subscription filter matches no retained message');
  const out = new PageCollector<RetainedView>(page, limit);
  broker.searchRetained(filter, (msg) => {
    if (out.wants()) out.data.push(retainedView(msg, true));
  });
  out.data.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  return out.result();
}

/** GET /retained/{topic} */
export function getRetained(broker: Broker, topic: string): ApiReply {
  const msg = broker.retainedMessage(topic);
  if (msg === undefined) throw notFound(`no retained message on ${topic}`);
  return json(retainedView(msg, false));
}

/** DELETE /retained/{topic}: gone from memory and the store; subscribers are told nothing. */
export function deleteRetained(broker: Broker, topic: string): ApiReply {
  if (!broker.clearRetained(topic)) throw notFound(`no retained message on ${topic}`);
  return { status: 204, json: null };
}

/** POST /publish */
export async function publish(broker: Broker, req: ApiRequest): Promise<ApiReply> {
  const body = jsonBody(req);
  const topic = body['topic'];
  if (typeof topic !== 'string' || topic === '') throw badParameter('topic', 'must be a non-empty string');
  const problem = validateTopicName(topic);
  if (problem !== null) throw badParameter('topic', `not a valid topic name: ${problem}`);
  const qos = body['qos'] ?? 0;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw badParameter('qos', `must be 0, 1 or 2 (got ${JSON.stringify(qos)})`);
  const retain = body['retain'] ?? false;
  if (typeof retain !== 'boolean') throw badParameter('retain', 'must be true or false');
  const clientId = body['clientId'];
  if (clientId !== undefined && (typeof clientId !== 'string' || clientId === '')) throw badParameter('clientId', 'must be a non-empty string');
  if (clientId !== undefined && retain) throw badParameter('retain', 'a point-to-point message (clientId) is never retained');
  const payload = payloadOf(body);
  const { properties, expiresAt } = propertiesOf(body['properties']);
  const msg = new Message(topic, payload, qos as QoS, retain, properties, expiresAt, null);
  const outcome = typeof clientId === 'string' ? broker.publishTo(clientId, msg) : broker.publish(msg);
  const result = { matched: outcome.matched, stored: outcome.stored };
  if (typeof clientId === 'string' && result.matched === 0) throw notFound(`no session for client id ${clientId}`);
  // Answer once what was stored is durable, as a QoS 1/2 publisher's acknowledgement would; 507
  // when the store could not keep it (--max-store-size, a full disk), as a publisher gets 0x97.
  if (result.stored) {
    await new Promise<void>((resolve, reject) =>
      broker.afterCommit((_: undefined, failure) => (failure === null ? resolve() : reject(new ApiError(507, 'store-full', `not stored: ${failure.message}`))), undefined),
    );
  }
  return json(result);
}

function payloadOf(body: Record<string, unknown>): Buffer {
  const payload = body['payload'] ?? '';
  if (typeof payload !== 'string') throw badParameter('payload', 'must be a string (UTF-8 text, or base64 with "encoding": "base64")');
  const encoding = body['encoding'] ?? 'utf8';
  if (encoding === 'utf8') return Buffer.from(payload, 'utf8');
  if (encoding !== 'base64') throw badParameter('encoding', `must be utf8 or base64 (got ${JSON.stringify(encoding)})`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) throw badParameter('payload', 'is not valid base64');
  return Buffer.from(payload, 'base64');
}

/** MQTT 5 properties from the body, and the absolute expiry of messageExpiryInterval. */
function propertiesOf(raw: unknown): { properties: MessageProperties | null; expiresAt: number } {
  if (raw === undefined || raw === null) return { properties: null, expiresAt: 0 };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw badParameter('properties', 'must be a JSON object');
  const p = raw as Record<string, unknown>;
  const known = new Set(['payloadFormatIndicator', 'contentType', 'responseTopic', 'correlationData', 'userProperties', 'messageExpiryInterval']);
  for (const key of Object.keys(p)) if (!known.has(key)) throw badParameter(`properties.${key}`, `unknown property (known: ${[...known].join(', ')})`);
  const out: MessageProperties = {};
  let expiresAt = 0;
  if (p['payloadFormatIndicator'] !== undefined) {
    if (p['payloadFormatIndicator'] !== 0 && p['payloadFormatIndicator'] !== 1) throw badParameter('properties.payloadFormatIndicator', 'must be 0 or 1');
    out.payloadFormatIndicator = p['payloadFormatIndicator'];
  }
  out.contentType = optionalString(p, 'contentType');
  out.responseTopic = optionalString(p, 'responseTopic');
  if (out.responseTopic !== undefined && validateTopicName(out.responseTopic) !== null) throw badParameter('properties.responseTopic', 'must be a valid topic name');
  const correlation = optionalString(p, 'correlationData');
  if (correlation !== undefined) out.correlationData = Buffer.from(correlation, 'base64');
  if (p['userProperties'] !== undefined) out.userProperties = userPropertiesOf(p['userProperties']);
  const expiry = p['messageExpiryInterval'];
  if (expiry !== undefined) {
    if (typeof expiry !== 'number' || !Number.isInteger(expiry) || expiry < 1 || expiry > 0xffffffff)
      throw badParameter('properties.messageExpiryInterval', 'must be whole seconds from 1 to 4294967295');
    expiresAt = Date.now() + expiry * 1000;
  }
  for (const key of Object.keys(out) as Array<keyof MessageProperties>) if (out[key] === undefined) delete out[key];
  return { properties: Object.keys(out).length === 0 ? null : out, expiresAt };
}

function optionalString(p: Record<string, unknown>, key: string): string | undefined {
  const value = p[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badParameter(`properties.${key}`, 'must be a string');
  return value;
}

function userPropertiesOf(value: unknown): UserProperty[] {
  const list: UserProperty[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      const pair = item as { key?: unknown; value?: unknown };
      if (typeof pair !== 'object' || pair === null || typeof pair.key !== 'string' || typeof pair.value !== 'string') {
        throw badParameter('properties.userProperties', 'must be [{"key": "...", "value": "..."}] or {"key": "value"}');
      }
      list.push({ key: pair.key, value: pair.value });
    }
    return list;
  }
  if (typeof value !== 'object' || value === null) throw badParameter('properties.userProperties', 'must be [{"key": "...", "value": "..."}] or {"key": "value"}');
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw badParameter('properties.userProperties', `the value of "${key}" must be a string`);
    list.push({ key, value: v });
  }
  return list;
}

/** 409 when an operation needs something the broker does not have. */
export function conflict(message: string): ApiError {
  return new ApiError(409, 'CONFLICT', message);
}
