/**
 * The hook seam: what happened to messages, clients and sessions, for whoever listens (bridges
 * to backends, the cluster, metrics, $SYS events). Models: mosquitto's plugin events
 * (MOSQ_EVT_MESSAGE), aedes' `published`.
 *
 * Each event has one slot that is null while nobody listens, so the hot path pays one field
 * read and allocates nothing: `const h = hooks.delivered; if (h !== null) h(session, msg, qos)`.
 * A second listener on an event turns the slot into a small fan-out function.
 * Listeners run synchronously inside the broker's call: they must not throw and must not
 * re-enter the broker (publish from a listener on the next tick).
 */
import type { ClientInfo, DisconnectReason } from './events.js';
import type { Message, QoS } from './message.js';
import type { Session, SessionSubscription } from './session.js';
import type { Will } from './will.js';

/** A publisher's right to publish on a topic (its ClientGuard). */
export interface PublishRight {
  canPublish(topic: string): boolean;
}

/** Why a message did not reach a session. */
export type DropReason =
  /** the session's queue was at --max-queued-messages / --max-queued-bytes */
  | 'queue-full'
  /** its Message Expiry Interval passed while it waited */
  | 'expired'
  /** larger than the client's Maximum Packet Size */
  | 'too-large'
  /** QoS 0 to a client that stopped reading (--max-socket-buffer) */
  | 'socket-buffer'
  /** the client's protocol could not take it (a device command that does not parse, or the device's command queue is full) */
  | 'refused'
  /** a device command the device never answered (after its resends), or still held when it went offline */
  | 'unanswered';

/** Why a session ended ('moved': handed to another node of the cluster). */
export type SessionEndReason = 'expired' | 'clean-start' | 'disconnected' | 'shutdown' | 'discarded' | 'moved';

/** Every event of the seam and what its listener receives. */
export interface HookEvents {
  /** A message passed authorization and is about to be routed. */
  messageAccepted: (msg: Message) => void;
  /**
   * The same moment, for a listener that takes messages out of the broker (a bridge): it returns
   * true when it wrote the message to the store, so the publisher is acknowledged only after the
   * commit, as for a message queued for a persistent session.
   */
  messageForward: (msg: Message) => boolean;
  /**
   * The same moment for a message routed by topic (not a point-to-point one): the cluster
   * hands it to the other nodes.
   */
  messagePublished: (msg: Message) => void;
  /**
   * A point-to-point message for a client with no session on this node: the cluster sends it
   * to the node holding it, after checking the publisher's right (`may`; null: no check) against
   * the client's downlink topic. True when it took the message.
   */
  pointToPointAway: (clientId: string, msg: Message, may: PublishRight | null) => boolean;
  /** An operator removed a retained message without publishing an empty one (the admin API). */
  retainedCleared: (topic: string) => void;
  /** A session subscribed to a filter it had not subscribed yet (also a `$share/` one). */
  subscriptionAdded: (session: Session, sub: SessionSubscription) => void;
  /** A session's subscription went away (unsubscribed, or the session ended). */
  subscriptionRemoved: (session: Session, sub: SessionSubscription) => void;
  /** A message was written to a session's connection. */
  messageDelivered: (session: Session, msg: Message, qos: QoS) => void;
  /** A message for a session was dropped, with why; `session` is null when it had none left. */
  messageDropped: (session: Session | null, msg: Message, reason: DropReason) => void;
  clientConnected: (client: ClientInfo) => void;
  clientDisconnected: (client: ClientInfo, reason: DisconnectReason) => void;
  sessionCreated: (session: Session) => void;
  sessionEnded: (session: Session, reason: SessionEndReason) => void;
  /** The client released inbound QoS 2 packet id `packetId` (PUBREL): a new message may reuse it. */
  qos2Released: (session: Session, packetId: number) => void;
  /** A connection attached to `session` declared its will (null: none), once it is online. */
  willDeclared: (session: Session, will: Will | null) => void;
}

export type HookName = keyof HookEvents;

/** The broker's hook slots; read a slot, and call it when it is not null. */
export class Hooks {
  messageAccepted: HookEvents['messageAccepted'] | null = null;
  messageForward: HookEvents['messageForward'] | null = null;
  messagePublished: HookEvents['messagePublished'] | null = null;
  pointToPointAway: HookEvents['pointToPointAway'] | null = null;
  retainedCleared: HookEvents['retainedCleared'] | null = null;
  subscriptionAdded: HookEvents['subscriptionAdded'] | null = null;
  subscriptionRemoved: HookEvents['subscriptionRemoved'] | null = null;
  messageDelivered: HookEvents['messageDelivered'] | null = null;
  messageDropped: HookEvents['messageDropped'] | null = null;
  clientConnected: HookEvents['clientConnected'] | null = null;
  clientDisconnected: HookEvents['clientDisconnected'] | null = null;
  sessionCreated: HookEvents['sessionCreated'] | null = null;
  sessionEnded: HookEvents['sessionEnded'] | null = null;
  willDeclared: HookEvents['willDeclared'] | null = null;
  qos2Released: HookEvents['qos2Released'] | null = null;

  private readonly listeners: { [E in HookName]?: Array<HookEvents[E]> } = {};

  /** Adds a listener; returns the function that removes it. */
  on<E extends HookName>(event: E, listener: HookEvents[E]): () => void {
    const list = (this.listeners[event] ??= []) as Array<HookEvents[E]>;
    list.push(listener);
    this.rebuild(event);
    return () => {
      const at = list.indexOf(listener);
      if (at !== -1) list.splice(at, 1);
      this.rebuild(event);
    };
  }

  /** Points the slot at the only listener, a fan-out over several, or null. */
  private rebuild<E extends HookName>(event: E): void {
    const list = (this.listeners[event] ?? []) as Array<HookEvents[E]>;
    let slot: HookEvents[E] | null = null;
    if (list.length === 1) slot = list[0]!;
    else if (list.length > 1) {
      const copy = list.slice() as Array<(...args: unknown[]) => unknown>;
      // True when any listener said true (messageForward: some listener stored the message).
      slot = ((...args: unknown[]) => {
        let any = false;
        for (const fn of copy) if (fn(...args) === true) any = true;
        return any;
      }) as HookEvents[E];
    }
    (this as unknown as Record<E, HookEvents[E] | null>)[event] = slot;
  }
}
