/**
 * A journal-fed session's state on its node (journal-feed.ts reads the consumers): its consumers,
 * the deliveries it holds, and the two kinds of journal reference a delivery carries.
 */
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { SessionEndReason } from '../core/hooks.js';
import { journalPacketId, type JournalRef, type Session } from '../core/session.js';
import type { SessionReceipts } from './qos2-receipts.js';
import { RecentMap, RecentSet } from './recent-set.js';

/** What a held delivery needs of the feed. */
export interface FeedHost {
  saveReceipts(feed: SessionFeed, done: (() => void) | null): void;
}

/** One durable consumer of a session's subscription, as this node reads it. */
export interface FeedConsumer {
  readonly name: string;
  readonly filter: string;
  /** the journal subject it reads */
  readonly subject: string;
  /** when this node made it (ms): messages published before are not for it; 0 when it existed */
  since: number;
  ready: boolean;
  messages: ConsumerMessages | null;
  starting: boolean;
  removed: boolean;
  /** Settles the SUBACK's wait for this consumer's route (route-wait.ts), once; null when nothing waits. */
  routed: (() => void) | null;
}

/** One journal-fed session on this node. */
export class SessionFeed {
  readonly consumers = new Map<string, FeedConsumer>();
  /** deliveries held here, by consumer name and sequence */
  readonly held = new Map<string, FeedRef>();
  ended: SessionEndReason | null = null;
  /** the receipts another node left were turned into PUBRELs */
  restored = false;
  /**
   * Sequences this node completed lately, for two periods of --cluster-redelivery: JetStream may
   * have sent one again before its acknowledgement arrived (a client slower than that), and that
   * copy must not reach the client a second time.
   */
  readonly completed: RecentSet<number>;
  /**
   * Receipts another node left whose PUBCOMP came here: the journal may still send their message
   * (that node died before acknowledging it), so the receipt stays until the copy shows up.
   */
  readonly settled = new Set<number>();
  /**
   * The journal sequence each record id (Nats-Msg-Id) was delivered under lately:
   * nats-server before 2.11 may store a write twice when a stream leader election interrupts it
   * (its duplicate check did not cover proposals of the previous leader), and the second copy,
   * under another sequence, must not reach a QoS 2 subscriber again.
   */
  readonly records: RecentMap<string, number>;
  constructor(
    readonly session: Session,
    readonly receipts: SessionReceipts,
    redeliveryMs: number,
  ) {
    this.completed = new RecentSet<number>(2 * redeliveryMs, 100_000);
    this.records = new RecentMap<string, number>(2 * redeliveryMs, 100_000);
  }
}

/** How long a delivery given back waits before JetStream hands it out again. */
const ABANDON_REDELIVERY_MS = 300;

/** A journal delivery held by a session here. */
export class FeedRef implements JournalRef {
  constructor(
    private readonly feed: FeedHost,
    private readonly sf: SessionFeed,
    private readonly key: string,
    public m: JsMsg,
  ) {}

  get seq(): number {
    return this.m.seq;
  }

  done(): void {
    this.sf.held.delete(this.key);
    this.sf.completed.add(this.m.seq);
    // QoS 2 was acknowledged to the journal at PUBREC: its PUBCOMP only clears the receipt.
    if (this.sf.receipts.bySeq.delete(this.m.seq)) this.feed.saveReceipts(this.sf, null);
    else this.m.ack();
  }

  received(release: () => void): void {
    this.sf.receipts.bySeq.set(this.m.seq, journalPacketId(this.m.seq));
    this.feed.saveReceipts(this.sf, () => confirmAck(this.m, release, 5));
  }

  abandon(): void {
    this.sf.held.delete(this.key);
    // Redelivered after a moment: nats-server may still hand a message NAKed at once to this node's
    // pull request it just closed, where nobody reads it, and the next node would wait --cluster-redelivery.
    if (!this.sf.receipts.bySeq.has(this.m.seq)) this.m.nak(ABANDON_REDELIVERY_MS);
  }
}

/** A QoS 2 delivery another node had taken to PUBREC: only its PUBREL is left to send. */
export class ReceiptRef implements JournalRef {
  constructor(
    private readonly sf: SessionFeed,
    readonly seq: number,
  ) {}
  done(): void {
    this.sf.settled.add(this.seq);
  }
  received(release: () => void): void {
    release();
  }
  abandon(): void {}
}

/** Acknowledges `m` and waits for JetStream to confirm it (a few tries), then calls `then`. */
function confirmAck(m: JsMsg, then: () => void, tries: number): void {
  m.ackAck().then(
    (ok) => (ok || tries <= 1 ? then() : confirmAck(m, then, tries - 1)),
    () => (tries <= 1 ? then() : setTimeout(() => confirmAck(m, then, tries - 1), 250)),
  );
}
