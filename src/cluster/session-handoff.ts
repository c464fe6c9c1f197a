/**
 * A session moving between nodes over NATS request/reply: the node a client reconnected to asks
 * the node holding its session ($JUNCTION.takeover.<node>); that node ends the connection as a
 * takeover, takes the session out of its broker and answers with its state (subscriptions,
 * inflight and queued QoS 1/2 deliveries with their packet ids, inbound QoS 2 ids). A state larger
 * than the NATS server's max_payload travels in chunks: the first in the reply, the others on an
 * inbox the asking node named.
 */
import { createInbox, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import type { SessionState } from '../core/session-state.js';
import { QueuedState, type QueuedRecord } from '../store/types.js';
import { fromJson, toJson } from './record-stream.js';

export const TAKEOVER_PREFIX = '$JUNCTION.takeover.';
export const LEFTOVER_PREFIX = '$JUNCTION.leftover.';
const H_CHUNKS = 'Junction-Chunks';
const H_CHUNK = 'Junction-Chunk';
/** Room left in a chunk for the headers and the protocol line. */
const CHUNK_MARGIN = 4096;

/** What the asking node sends. */
export interface TakeoverRequest {
  clientId: string;
  /** the asking node */
  from: string;
  /** where chunks after the first go */
  inbox: string;
}

/** The takeover subject of a node. */
export function takeoverSubject(node: string): string {
  return TAKEOVER_PREFIX + Buffer.from(node, 'utf8').toString('base64url');
}

/** Why asking failed: the node has no subscriber (it is gone) or did not answer in time. */
export class HandoffError extends Error {
  constructor(
    message: string,
    readonly gone: boolean,
  ) {
    super(message);
    this.name = 'HandoffError';
  }
}

/**
 * Asks `node` for the session of `clientId`; resolves with its state, or null when it held none
 * (or the session ended with its connection). Rejects with HandoffError.
 */
export async function requestSession(nc: NatsConnection, node: string, from: string, clientId: string, timeoutMs: number): Promise<SessionState | null> {
  const inbox = createInbox();
  const chunks: Buffer[] = [];
  let expected = -1;
  let resolveRest: (() => void) | null = null;
  const sub = nc.subscribe(inbox, {
    callback: (err, m) => {
      if (err !== null) return;
      const i = Number(m.headers?.get(H_CHUNK) ?? '');
      if (Number.isInteger(i) && i > 0) chunks[i] = Buffer.from(m.data);
      if (expected > 0 && countOf(chunks) === expected) resolveRest?.();
    },
  });
  try {
    const request: TakeoverRequest = { clientId, from, inbox };
    let reply: Msg;
    try {
      await nc.flush();
      reply = await nc.request(takeoverSubject(node), JSON.stringify(request), { timeout: timeoutMs });
    } catch (err) {
      const text = (err as Error).message;
      const gone = /no responders|503/i.test(text) || (err as { code?: string }).code === '503';
      throw new HandoffError(gone ? `node ${node} is gone` : `node ${node} did not answer: ${text}`, gone);
    }
    expected = Number(reply.headers?.get(H_CHUNKS) ?? '0');
    if (!Number.isInteger(expected) || expected < 0) throw new HandoffError(`node ${node} answered a malformed takeover reply`, false);
    if (expected === 0) return null;
    chunks[0] = Buffer.from(reply.data);
    if (countOf(chunks) < expected) {
      await new Promise<void>((resolve, reject) => {
        resolveRest = resolve;
        const timer = setTimeout(() => reject(new HandoffError(`node ${node} sent ${countOf(chunks)} of ${expected} session chunks`, false)), timeoutMs);
        timer.unref();
        if (countOf(chunks) === expected) resolve();
      });
    }
    return fromJson<SessionState>(Buffer.concat(chunks).toString('utf8'));
  } finally {
    sub.unsubscribe();
  }
}

function countOf(chunks: Buffer[]): number {
  let n = 0;
  for (const c of chunks) if (c !== undefined) n++;
  return n;
}

/** Answers a takeover request with `state` (null: no session), in chunks that fit the server's max_payload. */
export function answerTakeover(nc: NatsConnection, m: Msg, request: TakeoverRequest, state: SessionState | null): void {
  if (state === null) {
    const h = headers();
    h.set(H_CHUNKS, '0');
    m.respond(new Uint8Array(0), { headers: h });
    return;
  }
  const bytes = Buffer.from(toJson(state), 'utf8');
  const size = Math.max(1024, (nc.info?.max_payload ?? 1024 * 1024) - CHUNK_MARGIN);
  const n = Math.max(1, Math.ceil(bytes.length / size));
  const first = headers();
  first.set(H_CHUNKS, String(n));
  // The rest first: the asker counts chunks from the reply on, and NATS keeps one publisher's order.
  for (let i = 1; i < n; i++) {
    const h = headers();
    h.set(H_CHUNK, String(i));
    nc.publish(request.inbox, bytes.subarray(i * size, (i + 1) * size), { headers: h });
  }
  m.respond(bytes.subarray(0, size), { headers: first });
}

/** The request in a takeover message, or null when it is malformed. */
export function parseTakeover(m: Msg): TakeoverRequest | null {
  try {
    const r = JSON.parse(m.string()) as Partial<TakeoverRequest>;
    if (typeof r.clientId !== 'string' || typeof r.from !== 'string' || typeof r.inbox !== 'string' || !r.inbox.startsWith('_INBOX.')) return null;
    return { clientId: r.clientId, from: r.from, inbox: r.inbox };
  } catch {
    return null;
  }
}

/** The subject where a node takes the leftovers of sessions it owns. */
export function leftoverSubject(node: string): string {
  return LEFTOVER_PREFIX + Buffer.from(node, 'utf8').toString('base64url');
}

/** Leftovers of a session another node holds now, as sent to it. */
export interface Leftovers {
  clientId: string;
  from: string;
  outgoing: QueuedRecord[];
}

/**
 * What of a session's deliveries may still go to its client through another node: everything
 * never sent, and QoS 1 sent but not acknowledged (at least once); a QoS 2 delivery already sent
 * may have reached the client, and sending it again could deliver it twice: it stays out.
 */
export function deliverable(outgoing: readonly QueuedRecord[]): { keep: QueuedRecord[]; dropped: number } {
  const keep: QueuedRecord[] = [];
  let dropped = 0;
  for (const r of outgoing) {
    if (r.state === QueuedState.Queued || (r.qos === 1 && r.state === QueuedState.Sent)) keep.push({ ...r, state: QueuedState.Queued, packetId: 0 });
    else dropped++;
  }
  return { keep, dropped };
}

/** Sends leftovers to `node` in requests that fit the server's max_payload; resolves with how many it took. */
export async function sendLeftovers(nc: NatsConnection, node: string, leftovers: Leftovers, timeoutMs: number): Promise<number> {
  const limit = Math.max(1024, (nc.info?.max_payload ?? 1024 * 1024) - CHUNK_MARGIN);
  let taken = 0;
  let part: QueuedRecord[] = [];
  let bytes = 0;
  const send = async (): Promise<void> => {
    if (part.length === 0) return;
    const reply = await nc.request(leftoverSubject(node), toJson({ ...leftovers, outgoing: part }), { timeout: timeoutMs });
    taken += Number(reply.string()) || 0;
    part = [];
    bytes = 0;
  };
  for (const r of leftovers.outgoing) {
    const size = r.message.payload.length * 1.4 + 512;
    if (bytes + size > limit) await send();
    part.push(r);
    bytes += size;
  }
  await send();
  return taken;
}

/** The leftovers in a message, or null when malformed. */
export function parseLeftovers(m: Msg): Leftovers | null {
  try {
    const l = fromJson<Partial<Leftovers>>(m.string());
    if (typeof l.clientId !== 'string' || typeof l.from !== 'string' || !Array.isArray(l.outgoing)) return null;
    return { clientId: l.clientId, from: l.from, outgoing: l.outgoing };
  } catch {
    return null;
  }
}
