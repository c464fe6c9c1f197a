/** Fills an LMDB data dir with retained messages before a broker starts on it (fast: no network). */
import { LmdbStore } from '../../src/store/lmdb-store.js';
import type { StoredMessage } from '../../src/store/types.js';

/** The topic of seeded message i: device topics spread over regions, as a fleet would publish. */
export function seededTopic(i: number): string {
  return `fleet/r${i % 8}/v${i}/status`;
}

/** Writes `count` retained messages (topic seededTopic(i), payload `p{i}`) plus `extra` ones. */
export async function seedRetained(dataDir: string, count: number, extra: StoredMessage[] = []): Promise<void> {
  const store = new LmdbStore(dataDir);
  await store.open();
  for (let i = 0; i < count; i++) {
    store.putRetained({ topic: seededTopic(i), payload: Buffer.from(`p${i}`), qos: 0, retain: true, expiresAt: 0, properties: null, origin: null });
    // Let lmdb-js commit in moderate transactions instead of one huge one.
    if (i % 50_000 === 49_999) await store.flush();
  }
  for (const m of extra) store.putRetained(m);
  await store.close();
}
