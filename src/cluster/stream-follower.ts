/**
 * Following a table stream (one record per subject) on every node: read its newest message per
 * subject once, then every change after it in the stream's order, for as long as the node runs.
 * Used for the retained messages and for the durable routes.
 *
 * An ordered consumer lives on one NATS server: when its heartbeats stop (that server went away)
 * or the reading ends, a new one starts after the last sequence seen, so nothing is skipped and
 * nothing is read twice.
 */
import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Logger, LogRateLimit } from '../log/logger.js';

/** `initial`: part of the first full read (newest message per subject), not a change after it. */
export type FollowedMessage = (m: JsMsg, initial: boolean) => void;

export class StreamFollower {
  /** The stream sequence of the last message handed on. */
  private lastSeq = 0;
  private following: ConsumerMessages | null = null;

  /** `what` names the stream in log lines ("cluster retained stream"). */
  constructor(
    private readonly stream: string,
    private readonly what: string,
    private readonly retryMs: number,
    private readonly log: Logger,
    private readonly logLimit: LogRateLimit,
    private readonly closed: () => boolean,
  ) {}

  /**
   * Hands every record to `onMessage`, then keeps following; resolves once the first full read is
   * done. Rejects when the stream cannot be read the first time (the caller retries).
   */
  async load(js: JetStreamClient, jsm: JetStreamManager, onMessage: FollowedMessage): Promise<void> {
    const total = (await jsm.streams.info(this.stream)).state.messages;
    await new Promise<void>((resolve, reject) => {
      let initial = total > 0;
      let seen = 0;
      if (!initial) resolve();
      const each = (m: JsMsg): void => {
        onMessage(m, initial);
        if (!initial) return;
        seen++;
        if (m.info.pending === 0 || seen >= total) {
          initial = false;
          resolve();
        }
      };
      this.follow(js, each).catch(reject);
    });
  }

  /** The stream sequence of the last message handed on (0 before the first). */
  get seq(): number {
    return this.lastSeq;
  }

  /** Drops the current consumer (its server may be gone): the reading starts again after the last sequence seen. */
  restart(): void {
    this.following?.stop();
  }

  private async follow(js: JetStreamClient, onMessage: (m: JsMsg) => void): Promise<void> {
    let firstRound = true;
    while (!this.closed()) {
      let messages: ConsumerMessages;
      try {
        const from = this.lastSeq === 0 ? { deliver_policy: DeliverPolicy.LastPerSubject } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.lastSeq + 1 };
        const consumer = await js.consumers.get(this.stream, from);
        // Heartbeats every 2.5 s: a consumer lost with its server is noticed within seconds.
        messages = await consumer.consume({ expires: 5000 });
      } catch (err) {
        if (firstRound) throw err;
        if (this.logLimit.allow(`follow-${this.stream}`)) this.log.warn(`${this.what} not readable; retrying`, { error: (err as Error).message, retryMs: this.retryMs });
        await new Promise((resolve) => setTimeout(resolve, this.retryMs).unref());
        continue;
      }
      firstRound = false;
      this.following = messages;
      void (async () => {
        for await (const n of messages.status()) {
          if (n.type === 'heartbeats_missed' && n.count >= 2) {
            this.log.warn(`${this.what}: its consumer stopped answering; following it again`, { fromSequence: this.lastSeq + 1 });
            messages.stop();
            return;
          }
        }
      })().catch(() => undefined);
      try {
        for await (const m of messages) {
          this.lastSeq = m.seq;
          onMessage(m);
        }
      } catch (err) {
        if (!this.closed()) this.log.warn(`${this.what} reading ended; following it again`, { error: (err as Error).message });
      }
    }
  }
}
