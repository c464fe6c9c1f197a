/** Conversions between live core objects and the store's plain records. */
import { Message } from './message.js';
import { type OutState, Outgoing, type Session } from './session.js';
import type { QueuedRecord, SessionRecord, StoredMessage, StoredSubscription } from '../store/types.js';

/** The persistable fields of a message (never its encoding cache). */
export function storedMessage(msg: Message): StoredMessage {
  return {
    topic: msg.topic,
    payload: msg.payload,
    qos: msg.qos,
    retain: msg.retain,
    expiresAt: msg.expiresAt,
    properties: msg.properties,
    origin: msg.origin,
  };
}

/** Rebuilds a message read back from the store. */
export function messageFromStored(m: StoredMessage): Message {
  return new Message(m.topic, m.payload, m.qos, m.retain, m.properties, m.expiresAt, m.origin);
}

export function queuedRecord(out: Outgoing): QueuedRecord {
  return {
    seq: out.seq,
    state: out.state as number,
    packetId: out.id,
    qos: out.qos,
    retain: out.retain,
    subscriptionIds: out.subscriptionIds,
    message: storedMessage(out.msg),
  };
}

export function outgoingFromRecord(r: QueuedRecord): Outgoing {
  const out = new Outgoing(r.seq, messageFromStored(r.message), r.qos, r.retain, r.subscriptionIds, null);
  out.id = r.packetId;
  out.state = r.state as number as OutState;
  return out;
}

export function sessionRecord(session: Session): SessionRecord {
  const subscriptions: StoredSubscription[] = [];
  for (const s of session.subscriptions.values()) {
    subscriptions.push({
      filter: s.filter,
      qos: s.qos,
      noLocal: s.noLocal,
      retainAsPublished: s.retainAsPublished,
      retainHandling: s.retainHandling,
      subscriptionId: s.subscriptionId,
    });
  }
  const record: SessionRecord = {
    clientId: session.clientId,
    expiryInterval: session.expiryInterval,
    disconnectedAt: session.disconnectedAt,
    protocol: session.protocol,
    subscriptions,
  };
  if (session.identity !== null) record.identity = session.identity;
  return record;
}
