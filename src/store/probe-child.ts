/**
 * Child process of the store's full check (probe.ts): opens the store read-only and reads every
 * record of every database. If the file is damaged in a way that makes LMDB crash, this process
 * dies instead of the broker, and the broker refuses to start with a message. Prints one JSON line.
 */
import { open } from 'lmdb';
import { checksummed } from './record-codec.js';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: probe-child <dataDir>');
const STRUCTURES = Symbol.for('junction.structures');
const root = open(dataDir, { noSubdir: false, maxDbs: 16, readOnly: true });
let records = 0;
for (const name of ['retained', 'sessions', 'queues', 'incoming']) {
  const db = root.openDB(checksummed({ name, sharedStructuresKey: name === 'incoming' ? undefined : STRUCTURES }));
  if (db === undefined) continue;
  for (const entry of db.getRange({ snapshot: true })) {
    void entry.value;
    records++;
  }
}
process.stdout.write(`${JSON.stringify({ ok: true, records })}\n`);
await root.close();
