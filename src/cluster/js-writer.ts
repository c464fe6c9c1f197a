/**
 * Pipelined JetStream writes: each write is a plain NATS publish whose reply subject is one
 * token under a single inbox subscription, and JetStream's answers (PubAck) settle the writes
 * they name. nats.js's `js.publish` makes a request per message, with its own timer; at the
 * journal's rate that bookkeeping was a large part of the cost. Writes left unanswered past the
 * timeout fail together, on one sweep a second.
 */
import { createInbox, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { H_JOURNAL_ID } from './headers.js';

interface Waiting {
  readonly resolve: (result: WriteResult) => void;
  readonly at: number;
}

/** JetStream's answer to one write. */
export const enum WriteResult {
  Stored = 0,
  /** a write with this message id was stored before (JetStream's duplicate window) */
  Duplicate = 1,
  /** an error, no answer, or no stream listening */
  Failed = 2,
}

export class JetStreamWriter {
  private readonly prefix: string;
  private readonly sub: Subscription;
  private readonly waiting = new Map<string, Waiting>();
  private next = 0;
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.prefix = createInbox() + '.';
    this.sub = nc.subscribe(this.prefix + '*', { callback: (err, m) => (err === null ? this.answer(m.subject, m.headers, m.data) : undefined) });
    this.sweep = setInterval(() => this.expire(), 1000);
    this.sweep.unref();
  }

  /** Writes `payload` to the stream listening on `subject`, under `msgId` (JetStream's duplicate check). */
  write(subject: string, payload: Uint8Array, headers: MsgHdrs, msgId: string): Promise<WriteResult> {
    headers.set(H_JOURNAL_ID, msgId);
    const token = (this.next++).toString(36);
    return new Promise<WriteResult>((resolve) => {
      this.waiting.set(token, { resolve, at: Date.now() });
      try {
        this.nc.publish(subject, payload, { headers, reply: this.prefix + token });
      } catch {
        this.waiting.delete(token);
        resolve(WriteResult.Failed);
      }
    });
  }

  private answer(subject: string, headers: MsgHdrs | undefined, data: Uint8Array): void {
    const token = subject.slice(this.prefix.length);
    const w = this.waiting.get(token);
    if (w === undefined) return;
    this.waiting.delete(token);
    // A status message (503: no stream listening) has a code and no body.
    if (headers?.hasError) {
      w.resolve(WriteResult.Failed);
      return;
    }
    let ack: { error?: unknown; duplicate?: boolean };
    try {
      ack = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as { error?: unknown; duplicate?: boolean };
    } catch {
      w.resolve(WriteResult.Failed);
      return;
    }
    w.resolve(ack.error !== undefined ? WriteResult.Failed : ack.duplicate === true ? WriteResult.Duplicate : WriteResult.Stored);
  }

  private expire(): void {
    const limit = Date.now() - this.timeoutMs;
    for (const [token, w] of this.waiting) {
      if (w.at > limit) break; // in the order they were written
      this.waiting.delete(token);
      w.resolve(WriteResult.Failed);
    }
  }

  /** Stops listening; every write still waiting fails. */
  close(): void {
    clearInterval(this.sweep);
    this.sub.unsubscribe();
    for (const w of this.waiting.values()) w.resolve(WriteResult.Failed);
    this.waiting.clear();
  }
}
