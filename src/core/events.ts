/**
 * Client lifecycle events: every connect and disconnect, whatever the protocol, published as
 * JSON to $SYS/brokers/{node}/clients/{clientid}/connected and .../disconnected so a backend can
 * keep device status. Published at QoS 0, not retained. The body names the client, its username,
 * address and port, protocol and version, the time (`ts`, ms since the epoch) and, on disconnect,
 * the reason.
 */
import { Message } from './message.js';
import type { Broker } from './broker.js';

export interface ClientInfo {
  readonly clientId: string;
  readonly username: string | null;
  readonly address: string;
  readonly port: number;
  /** e.g. 'mqtt', 'stomp', 'jt808', 'gbt32960' */
  readonly protocol: string;
  /** e.g. '5', '3.1.1', '1.2', '2019' */
  readonly protocolVersion: string;
  readonly transport: string;
  readonly keepAlive?: number;
  readonly cleanStart?: boolean;
}

/**
 * Why a client went away: normal disconnect, keep-alive timeout, takeover, kicked,
 * authentication failure, protocol error, connection lost (and shutdown, connect timeout,
 * publish quota exceeded).
 */
export type DisconnectReason =
  | 'normal'
  | 'keepalive-timeout'
  | 'takeover'
  | 'kicked'
  | 'auth-failure'
  | 'protocol-error'
  | 'connection-lost'
  | 'shutdown'
  | 'connect-timeout'
  | 'quota-exceeded'
  | 'credentials-expired';

/**
 * Publishes lifecycle events into the broker under $SYS/brokers/{node}/clients/. The gateway
 * calls it for every login and logout, before the hooks; the client's description is built only
 * while somebody subscribes to a $-topic (a connect storm would pay for it twice per client).
 */
export class SysClientEvents {
  private readonly prefix: string;

  constructor(
    private readonly broker: Broker,
    nodeName: string,
  ) {
    this.prefix = `$SYS/brokers/${nodeName}/clients/`;
  }

  /** A client logged in. */
  connected(who: { clientInfo(): ClientInfo }): void {
    if (this.broker.hasDollarSubscriptions) this.emit(who.clientInfo(), 'connected', { connectedAt: Date.now() });
  }

  /** A logged-in client went away. */
  disconnected(who: { clientInfo(): ClientInfo }, reason: DisconnectReason): void {
    if (this.broker.hasDollarSubscriptions) this.emit(who.clientInfo(), 'disconnected', { disconnectedAt: Date.now(), reason });
  }

  private emit(client: ClientInfo, what: string, extra: Record<string, unknown>): void {
    const body = {
      clientid: client.clientId,
      username: client.username,
      ipaddress: client.address,
      port: client.port,
      protocol: client.protocol,
      proto_ver: client.protocolVersion,
      transport: client.transport,
      ...(client.keepAlive !== undefined ? { keepalive: client.keepAlive } : {}),
      ...(client.cleanStart !== undefined ? { clean_start: client.cleanStart } : {}),
      ts: Date.now(),
      ...extra,
    };
    const payload = Buffer.from(JSON.stringify(body));
    this.broker.publish(new Message(this.prefix + topicLevel(client.clientId) + '/' + what, payload, 0, false, null, 0, null));
  }
}

/**
 * A client id as one topic level: `/`, `+` and `#` (and `%` itself) are percent-encoded, so a
 * client named `a/b` or `#` can neither split the event topic nor turn it into a filter.
 */
export function topicLevel(clientId: string): string {
  if (!/[/+#%]/.test(clientId)) return clientId;
  return clientId.replace(/[/+#%]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}
