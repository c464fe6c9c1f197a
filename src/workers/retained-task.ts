/**
 * Piscina worker task: the next batch of retained messages matching a filter, read from the LMDB
 * store through this thread's own read-only handle and encoded as QoS 0 PUBLISH packets into one
 * buffer that is moved (not copied) back to the main thread. Stateless between tasks: each one
 * resumes after the `after` key, so any worker can serve any request.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { encodePublish } from '../protocols/mqtt/codec/encode-publish.js';
import type { PublishProperties } from '../protocols/mqtt/codec/packets.js';
import { filterMatches } from '../core/topic.js';
import type { StoredMessage } from '../store/types.js';
import { checksummed, isCorrupt } from '../store/record-codec.js';
import type { WireBatch, WireBatchRequest } from '../core/retained-bulk.js';

/** What the pool gives every worker (workerData). */
export interface RetainedWorkerData {
  dataDir: string;
}

// The store's shared-structures key (src/store/lmdb-store.ts): msgpack needs it to decode records.
const STRUCTURES = Symbol.for('junction.structures');

let root: RootDatabase | null = null;
let retained: Database<StoredMessage, string> | null = null;

function retainedDb(): Database<StoredMessage, string> {
  if (retained !== null) return retained;
  const { dataDir } = workerData as RetainedWorkerData;
  // Read-only: LMDB gives every reader its own snapshot and never blocks the writer thread.
  root = open(dataDir, { noSubdir: false, maxDbs: 8, readOnly: true });
  retained = root.openDB<StoredMessage, string>(checksummed({ name: 'retained', sharedStructuresKey: STRUCTURES }));
  return retained;
}

/**
 * The literal levels before a filter's first wildcard: every matching topic starts with them,
 * so the read is one key range instead of the whole database.
 */
export function literalPrefix(filter: string): string {
  const levels = filter.split('/');
  let n = 0;
  while (n < levels.length && levels[n] !== '+' && levels[n] !== '#') n++;
  return levels.slice(0, n).join('/');
}

/** Encodes one retained message as the OutboundEncoder would for a QoS 0 subscriber. */
export function encodeRetained(m: StoredMessage, version: 3 | 4 | 5, subscriptionId: number, now: number): Buffer {
  let properties: PublishProperties | undefined;
  if (version === 5 && (m.properties !== null || m.expiresAt !== 0 || subscriptionId > 0)) {
    properties = m.properties === null ? {} : { ...m.properties };
    if (m.expiresAt !== 0) properties.messageExpiryInterval = Math.max(0, Math.ceil((m.expiresAt - now) / 1000));
    if (subscriptionId > 0) properties.subscriptionIdentifiers = [subscriptionId];
  }
  return encodePublish(version, { topic: m.topic, payload: m.payload, qos: 0, retain: true, dup: false, packetId: 0, properties });
}

/** Reads and encodes one batch; see WireBatchRequest. */
export function readBatch(db: Database<StoredMessage, string>, req: WireBatchRequest): WireBatch {
  const prefix = literalPrefix(req.filter);
  const parts: Buffer[] = [];
  let bytes = 0;
  let last: string | null = null;
  let expired = 0;
  let tooLarge = 0;
  let done = true;
  const start = req.after ?? (prefix === '' ? undefined : prefix);
  for (const { key, value } of db.getRange(start === undefined ? {} : { start })) {
    if (typeof key !== 'string') continue;
    if (!key.startsWith(prefix)) break;
    if (key === req.after) continue;
    if (bytes >= req.maxBytes) {
      done = false;
      break;
    }
    last = key;
    // A record failing its checksum is not served (the main thread reported it at start).
    if (!filterMatches(req.filter, key) || isCorrupt(value)) continue;
    if (value.expiresAt !== 0 && value.expiresAt <= req.now) {
      expired++;
      continue;
    }
    const packet = encodeRetained(value, req.version, req.subscriptionId, req.now);
    if (req.maxPacketSize > 0 && packet.length > req.maxPacketSize) {
      tooLarge++;
      continue;
    }
    parts.push(packet);
    bytes += packet.length;
  }
  // One exact-size, unpooled buffer: its whole ArrayBuffer is moved to the main thread.
  const data = new Uint8Array(new ArrayBuffer(bytes));
  let pos = 0;
  for (const p of parts) {
    data.set(p, pos);
    pos += p.length;
  }
  return { data, count: parts.length, last, done, tooLarge, expired };
}

/** The piscina entry point. */
export default function retainedBatch(req: WireBatchRequest): unknown {
  const batch = readBatch(retainedDb(), req);
  return move({
    get [transferableSymbol]() {
      return [batch.data.buffer];
    },
    get [valueSymbol]() {
      return batch;
    },
  } as unknown as ArrayBuffer);
}
