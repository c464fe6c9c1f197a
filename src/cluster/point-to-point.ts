/**
 * Point-to-point messages (`{parent}/p2p/{clientId}`, the admin API's `clientId`) for a client
 * whose session is on another node. The publisher's node reads the client's record in the
 * registry (trusted for two seconds), checks that the publisher may publish on the client's
 * downlink topic when it is a device, and sends the message to the holder's own subject
 * (`$JUNCTION.p2p.<node>.<hops>`); the holder delivers it as a local point-to-point message,
 * online or queued. A holder the client has left since the record was read reads the record
 * afresh and passes the message on, once. QoS 1/2 publishers are acknowledged once NATS has the
 * message (the ack gate waits for the lookup), as for messages routed by topic.
 */
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { Broker } from '../core/broker.js';
import type { PublishRight } from '../core/hooks.js';
import type { Message } from '../core/message.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { AckGate } from './ack-gate.js';
import type { ClientRecord } from './client-record.js';
import { H_DOWNLINK, H_MSG_ID, H_TO, messageFrom, messageHeaders, readMsgHeaders } from './headers.js';
import type { LinkListener, NatsLink } from './nats-link.js';
import type { Qos2Copies } from './qos2-copies.js';

const P2P_PREFIX = '$JUNCTION.p2p.';
/** How long a client's place is trusted before its record is read again. */
const PLACE_TTL_MS = 2000;
const PLACES_MAX = 10_000;
/** H_DOWNLINK for a message any downlink may take (the operator's, through the admin API). */
const ANY_DOWNLINK = '*';

/** What point-to-point messaging across nodes counted since the start. */
export interface PointToPointCounters {
  /** sent to the node holding the client */
  sent: number;
  /** delivered here for a publisher on another node */
  received: number;
  /** for a client no node holds (no record, or a record naming this node without the session here) */
  unknown: number;
  /** refused: the publisher may not publish on the client's downlink topic */
  refused: number;
  /** arrived after the client had left this node, and passed on */
  passedOn: number;
  /** not sent: NATS or the client registry not reachable (QoS 1/2 wait in the ack gate's outage buffer) */
  notSent: number;
  /** QoS 2 copies seen before (sent again after a NATS server failover) */
  duplicates: number;
}

/** Where a client is: its node (and the node's subject token), its downlink topic ('' none), until when that is trusted. */
interface Place {
  node: string;
  token: string;
  downlink: string;
  until: number;
}

/** A message on its way to another node. */
interface Route {
  target: string;
  /** the publisher's right to publish on a topic; null when `checked` says what was allowed */
  may: PublishRight | null;
  /** the downlink a node before checked ('' none, '*' any) */
  checked: string;
  /** 0 from the publisher's node, 1 passed on */
  hops: number;
  /** the QoS 2 copies' id ('' below QoS 2) */
  id: string;
}

/** A node's name as one subject token (any name fits). */
function tokenOf(node: string): string {
  return Buffer.from(node, 'utf8').toString('base64url');
}

export class PointToPoint implements LinkListener {
  readonly counters: PointToPointCounters = { sent: 0, received: 0, unknown: 0, refused: 0, passedOn: 0, notSent: 0, duplicates: 0 };
  private readonly routes = new WeakMap<Message, Route>();
  private readonly places = new Map<string, Place>();
  private readonly lookups = new Map<string, Promise<Place | null>>();
  private nc: NatsConnection | null = null;

  constructor(
    private readonly broker: Broker,
    private readonly link: NatsLink,
    private readonly gate: AckGate,
    /** QoS 2 ids, shared with the messages routed by topic */
    private readonly copies: Qos2Copies,
    /** reads a client's record from the registry */
    private readonly locate: (clientId: string) => Promise<ClientRecord | null>,
    private readonly node: string,
    private readonly log: Logger,
    private readonly logLimit: LogRateLimit,
  ) {}

  /** Listens to the hook seam; returns the function that stops. */
  attach(): () => void {
    return this.broker.hooks.on('pointToPointAway', (clientId, msg, may) => this.take(clientId, msg, may));
  }

  up(nc: NatsConnection, first: boolean): void {
    this.nc = nc;
    if (first) nc.subscribe(`${P2P_PREFIX}${tokenOf(this.node)}.*`, { callback: (err, m) => this.onMessage(err, m) });
  }

  down(): void {}

  /** pointToPointAway: a message for a client not here; sent on once its place is known. */
  private take(target: string, msg: Message, may: PublishRight | null): boolean {
    const route: Route = { target, may, checked: may === null ? ANY_DOWNLINK : '', hops: 0, id: msg.qos === 2 ? this.copies.newId() : '' };
    // Only QoS 1/2 messages are held, and sent again, by the ack gate.
    if (msg.qos !== 0) this.routes.set(msg, route);
    // NATS away: a QoS 1/2 message waits in the ack gate's outage buffer, which sends it (resend) once NATS is back.
    if (!this.link.up) {
      if (msg.qos === 0) this.counters.notSent++;
      return true;
    }
    const sending = this.send(msg, route);
    if (sending !== null && msg.qos !== 0) this.gate.hold(sending);
    return true;
  }

  /** Sends again a message the ack gate holds (its NATS server went away); null when nothing is left to wait for. */
  resend(msg: Message): Promise<void> | null {
    const route = this.routes.get(msg);
    return route === undefined ? null : this.send(msg, route);
  }

  /** Sends `msg` to the node holding its target: at once when the place is known, else once read (the promise). */
  private send(msg: Message, route: Route): Promise<void> | null {
    const place = this.places.get(route.target);
    if (place !== undefined && place.until > Date.now() && route.hops === 0) {
      this.sendTo(msg, route, place);
      return null;
    }
    return this.lookup(route.target).then(
      (found) => this.sendTo(msg, route, found),
      (err: unknown) => {
        this.counters.notSent++;
        if (this.logLimit.allow('cluster-p2p')) this.log.warn('point-to-point message not sent: the cluster client registry did not answer', { clientId: route.target, error: (err as Error).message });
      },
    );
  }

  /** The client's place from its record (one read at a time per client). */
  private lookup(clientId: string): Promise<Place | null> {
    let running = this.lookups.get(clientId);
    if (running === undefined) {
      running = this.locate(clientId).then((r) => {
        const place = r !== null && (r.online || r.session !== null) ? { node: r.node, token: tokenOf(r.node), downlink: r.downlink ?? '', until: Date.now() + PLACE_TTL_MS } : null;
        if (place === null) this.places.delete(clientId);
        else {
          if (this.places.size >= PLACES_MAX) this.places.clear();
          this.places.set(clientId, place);
        }
        return place;
      });
      const done = running;
      // then(forget, forget), not finally: a failed read must not leave a rejected promise unhandled.
      const forget = (): void => {
        if (this.lookups.get(clientId) === done) this.lookups.delete(clientId);
      };
      done.then(forget, forget);
      this.lookups.set(clientId, running);
    }
    return running;
  }

  private sendTo(msg: Message, route: Route, place: Place | null): void {
    if (place === null || place.node === this.node) {
      // The record names this node: the session may have arrived meanwhile.
      if (place !== null && this.broker.deliverTo(route.target, msg)) this.counters.received++;
      else this.counters.unknown++;
      return;
    }
    const downlink = place.downlink;
    if (downlink !== '' && !(route.may !== null ? route.may.canPublish(downlink) : route.checked === ANY_DOWNLINK || route.checked === downlink)) {
      this.counters.refused++;
      if (this.logLimit.allow('cluster-p2p-refused'))
        this.log.info('point-to-point message refused: the publisher may not publish on the downlink topic of its target', { clientId: route.target, downlink, topic: msg.topic });
      return;
    }
    const nc = this.nc;
    if (nc === null || !this.link.up) {
      this.counters.notSent++;
      return;
    }
    try {
      // Inside: a header value NATS cannot carry (a topic with CR or LF) throws.
      const headers = messageHeaders(msg, this.node, Date.now(), msg.topic);
      headers.set(H_TO, route.target);
      const checked = route.checked === ANY_DOWNLINK ? ANY_DOWNLINK : downlink;
      if (checked !== '') headers.set(H_DOWNLINK, checked);
      if (route.id !== '') headers.set(H_MSG_ID, route.id);
      nc.publish(`${P2P_PREFIX}${place.token}${route.hops === 0 ? '.0' : '.1'}`, msg.payload, { headers });
      this.counters.sent++;
    } catch (err) {
      this.counters.notSent++;
      if (this.logLimit.allow('cluster-p2p')) this.log.warn('point-to-point message not sent to its node', { clientId: route.target, bytes: msg.payload.length, error: (err as Error).message });
    }
  }

  /** A point-to-point message from another node, for a client here (or that was). */
  private onMessage(err: Error | null, m: Msg): void {
    if (err !== null) return;
    this.link.ingest.took();
    const f = readMsgHeaders(m);
    if (f.to === '' || f.topic === '') return;
    if (this.copies.repeated(f.msgId)) {
      this.counters.duplicates++;
      return;
    }
    const target = f.to;
    const checked = f.downlink;
    const msg = messageFrom(f.topic, Buffer.from(m.data), f, Date.now(), null);
    msg.target = target;
    const session = this.broker.pointToPointSession(target);
    if (session !== null) {
      const downlink = session.owner?.downlinkTopic ?? null;
      // The record the publisher's node read was older than this connection: the right it checked may not be this one.
      if (downlink !== null && checked !== ANY_DOWNLINK && checked !== downlink) {
        this.counters.refused++;
        return;
      }
      this.broker.deliverTo(target, msg);
      this.counters.received++;
      return;
    }
    if (m.subject.endsWith('.1')) {
      this.counters.unknown++;
      return;
    }
    // Moved since the publisher's node read its record: once more, from a fresh one.
    this.counters.passedOn++;
    this.places.delete(target);
    void this.send(msg, { target, may: null, checked, hops: 1, id: f.msgId });
  }
}
