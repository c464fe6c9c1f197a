/**
 * Plain PUBs (no headers, no reply subject) whose control line is made of cached bytes. nats.js's
 * publish builds `PUB {subject} {length}\r\n` as a string and encodes it with TextEncoder for every
 * message, the largest single cost of a cross-node message on its publishing node (1.6 us of about
 * 4, docs/CLUSTER.md "What a cross-node message costs"). This writes the same bytes into the same
 * outbound buffer through the connection's protocol handler (nats.js 3.x), after the checks
 * nats.js makes; where those internals are not there it calls nc.publish.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { protocolOf } from './nats-internals.js';

const CRLF = Buffer.from('\r\n', 'latin1');
const PREFIXES_MAX = 10_000;
const LENGTHS_CACHED = 65_536;

export class PlainPublisher {
  /** messages written through the protocol handler, and through nc.publish */
  readonly counts = { direct: 0, fallback: 0 };
  /** subject -> `PUB {subject} ` */
  private readonly prefixes = new Map<string, Buffer>();
  /** length -> `{length}\r\n` */
  private readonly lengths: Array<Buffer | undefined> = [];

  /**
   * Publishes `payload` on `subject` (a subject Junction made: no white space); throws as
   * nc.publish does (closed or draining connection, a payload above the server's max_payload).
   */
  publish(nc: NatsConnection, subject: string, payload: Uint8Array): void {
    const protocol = protocolOf(nc);
    if (protocol === null || nc.isClosed() || protocol.noMorePublishing) {
      this.counts.fallback++;
      nc.publish(subject, payload);
      return;
    }
    const length = payload.length;
    const max = protocol.info?.max_payload;
    if (max !== undefined && length > max) throw new RangeError(`payload of ${length} bytes above the NATS server's max_payload (${max})`);
    let prefix = this.prefixes.get(subject);
    if (prefix === undefined) {
      prefix = Buffer.from(`PUB ${subject} `, 'utf8');
      if (this.prefixes.size >= PREFIXES_MAX) this.prefixes.clear();
      this.prefixes.set(subject, prefix);
    }
    let tail = length < LENGTHS_CACHED ? this.lengths[length] : undefined;
    if (tail === undefined) {
      tail = Buffer.from(`${length}\r\n`, 'latin1');
      if (length < LENGTHS_CACHED) this.lengths[length] = tail;
    }
    protocol.outBytes += length;
    protocol.outMsgs++;
    protocol.sendCommand(prefix, tail, payload, CRLF);
    this.counts.direct++;
  }
}
