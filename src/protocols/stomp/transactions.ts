/**
 * Open transactions of one connection. SEND, ACK and NACK frames naming a transaction are
 * checked when they arrive and held here; COMMIT applies them in order, ABORT (or the end of
 * the connection) drops them, leaving NACK/ACKed messages unacknowledged.
 */
import type { Message } from '../../core/message.js';

/** One frame held by a transaction. */
export type TxAction = { readonly kind: 'send'; readonly msg: Message } | { readonly kind: 'ack' | 'nack'; readonly id: number };

export class Transactions {
  private open: Map<string, TxAction[]> | null = null;
  /** Body bytes held by every open transaction (bounded by --stomp-max-transaction-bytes). */
  bytes = 0;

  get count(): number {
    return this.open === null ? 0 : this.open.size;
  }

  has(name: string): boolean {
    return this.open?.has(name) === true;
  }

  begin(name: string): void {
    (this.open ??= new Map()).set(name, []);
  }

  /** The frames held so far (undefined for an unknown transaction). */
  actions(name: string): TxAction[] | undefined {
    return this.open?.get(name);
  }

  /** Ends a transaction, returning what it held (COMMIT applies it, ABORT drops it). */
  end(name: string): TxAction[] {
    const actions = this.open?.get(name) ?? [];
    this.open?.delete(name);
    for (const a of actions) if (a.kind === 'send') this.bytes -= a.msg.payload.length;
    return actions;
  }

  abortAll(): void {
    this.open = null;
    this.bytes = 0;
  }
}
