/**
 * Online/offline presence (--presence): a retained JSON status per client at
 * $SYS/brokers/{node}/presence/{clientid}, so a subscriber that comes later still learns who is
 * online. Written on the next tick after a connect or a disconnect (a hook must not re-enter the
 * broker). A refused login says nothing: it must not mark a connected client with the same id
 * offline. At start, statuses left "online" by a broker that died are set offline.
 */
import type { Broker } from '../core/broker.js';
import { topicLevel, type ClientInfo, type DisconnectReason } from '../core/events.js';
import { Message } from '../core/message.js';

export class Presence {
  private readonly prefix: string;
  private readonly removers: Array<() => void> = [];

  constructor(
    private readonly broker: Broker,
    nodeName: string,
  ) {
    this.prefix = `$SYS/brokers/${nodeName}/presence/`;
  }

  /** The status topic of a client id. */
  topicOf(clientId: string): string {
    return this.prefix + topicLevel(clientId);
  }

  /** Marks statuses a previous run left online as offline, then follows connects and disconnects. */
  start(): void {
    const stale: Message[] = [];
    this.broker.searchRetained(`${this.prefix}+`, (msg) => {
      if (msg.payload.includes('"online":true')) stale.push(msg);
    });
    for (const msg of stale) {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(msg.payload.toString('utf8')) as Record<string, unknown>;
      } catch {
        continue;
      }
      this.write(msg.topic, { ...body, online: false, reason: 'restart', ts: Date.now() });
    }
    const hooks = this.broker.hooks;
    this.removers.push(
      hooks.on('clientConnected', (client) => this.later(client, true, null)),
      hooks.on('clientDisconnected', (client, reason) => {
        if (reason !== 'auth-failure') this.later(client, false, reason);
      }),
    );
  }

  stop(): void {
    for (const remove of this.removers.splice(0)) remove();
  }

  private later(client: ClientInfo, online: boolean, reason: DisconnectReason | null): void {
    const body = {
      clientId: client.clientId,
      online,
      username: client.username,
      protocol: client.protocol,
      address: client.address,
      ts: Date.now(),
      ...(reason === null ? {} : { reason }),
    };
    process.nextTick(writeLater, this, this.topicOf(client.clientId), body);
  }

  /** Publishes a retained QoS 1 status (stored like any retained message). */
  write(topic: string, body: Record<string, unknown>): void {
    this.broker.publish(new Message(topic, Buffer.from(JSON.stringify(body)), 1, true, null, 0, null));
  }
}

function writeLater(presence: Presence, topic: string, body: Record<string, unknown>): void {
  presence.write(topic, body);
}
