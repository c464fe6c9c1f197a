/**
 * The wire side of bulk retained delivery for MQTT connections: worker batches are written
 * straight to the connection (after its SUBACK, in order with its other writes), leaving out the
 * packets of topics that got a live message meanwhile.
 */
import type { BulkWireTarget } from '../../core/retained-bulk.js';
import { Phase } from '../../gateway/shell.js';
import type { MqttConnection } from './connection.js';

/** The bulk target of one MQTT connection (its SessionOwner capability). */
export class MqttWireTarget implements BulkWireTarget {
  constructor(private readonly conn: MqttConnection) {}

  get version(): 3 | 4 | 5 {
    return this.conn.version;
  }

  get maxPacketSize(): number {
    return this.conn.clientMaxPacketSize;
  }

  get writable(): boolean {
    return this.conn.phase === Phase.Online;
  }

  get bufferedAmount(): number {
    return this.conn.link.bufferedAmount;
  }

  writeBatch(data: Uint8Array, skip: ReadonlySet<string>): number {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (skip.size === 0) {
      this.conn.write(buf);
      return 0;
    }
    let skipped = 0;
    let runStart = 0;
    let pos = 0;
    while (pos < buf.length) {
      const at = pos;
      const { end, topic } = publishAt(buf, at);
      pos = end;
      if (!skip.has(topic)) continue;
      if (at > runStart) this.conn.write(buf.subarray(runStart, at));
      runStart = end;
      skipped++;
    }
    if (buf.length > runStart) this.conn.write(buf.subarray(runStart));
    return skipped;
  }
}

/** Where the PUBLISH packet at `at` ends, and its topic (the batch holds whole packets only). */
export function publishAt(buf: Buffer, at: number): { end: number; topic: string } {
  let pos = at + 1;
  let remaining = 0;
  for (let shift = 0; ; shift += 7) {
    const b = buf[pos++] as number;
    remaining += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  const end = pos + remaining;
  const topicLength = ((buf[pos] as number) << 8) | (buf[pos + 1] as number);
  return { end, topic: buf.toString('utf8', pos + 2, pos + 2 + topicLength) };
}
