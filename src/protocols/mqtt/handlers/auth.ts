/**
 * AUTH [MQTT-3.15]: continues an enhanced authentication exchange started by CONNECT. Without
 * one in progress, or with another method, it is a protocol error. (Re-authentication of an
 * established connection is answered the same way, through the method's continue step.)
 */
import { ProtocolError } from '../../../errors.js';
import type { MqttConnection } from '../connection.js';
import { ReasonCode } from '../codec/constants.js';
import { encodeAuth } from '../codec/encode.js';
import type { AuthPacket } from '../codec/packets.js';
import type { ConnectInfo } from '../../../core/auth.js';
import { Phase } from '../../../gateway/shell.js';
import { refuseAuthentication, type AuthExchange } from './connect.js';

export function handleAuth(conn: MqttConnection, packet: AuthPacket): void {
  const methodName = packet.properties.authenticationMethod;
  const connected = conn.phase === Phase.Online;
  let exchange = conn.authState as AuthExchange | null;
  if (connected && packet.reasonCode === ReasonCode.ReAuthenticate && methodName !== undefined) {
    const method = conn.kit.authMethod(methodName);
    if (method === undefined) throw new ProtocolError(`AUTH: authentication method '${methodName}' is not the one in use`);
    const info: ConnectInfo = {
      clientId: conn.clientId,
      username: conn.client?.username ?? null,
      password: null,
      remoteAddress: conn.link.remoteAddress,
      protocol: 'mqtt/5',
      transport: conn.link.transport,
    };
    exchange = { method, info, packet: null, assigned: false, state: undefined };
    const step = method.start(info, packet.properties.authenticationData ?? null);
    settle(conn, exchange, step.outcome, step.data, step.state);
    return;
  }
  if (exchange === null || methodName !== exchange.method.name || packet.reasonCode !== ReasonCode.ContinueAuthentication) {
    throw new ProtocolError('AUTH received without an authentication exchange in progress'); // [MQTT-4.12.0-?]
  }
  const step = exchange.method.continue(exchange.info, packet.properties.authenticationData ?? null, exchange.state);
  settle(conn, exchange, step.outcome, step.data, step.state);
}

function settle(conn: MqttConnection, exchange: AuthExchange, outcome: 'success' | 'continue' | 'fail', data: Buffer | undefined, state: unknown): void {
  if (outcome === 'continue') {
    exchange.state = state;
    conn.authState = exchange;
    conn.sendAuthContinue(exchange.method.name, data);
    return;
  }
  conn.authState = null;
  if (exchange.packet === null) {
    // Re-authentication of a live connection.
    if (outcome === 'fail') {
      conn.disconnectWith(ReasonCode.NotAuthorized, 're-authentication failed');
      return;
    }
    const properties = data === undefined ? { authenticationMethod: exchange.method.name } : { authenticationMethod: exchange.method.name, authenticationData: data };
    conn.write(encodeAuth(ReasonCode.Success, properties));
    return;
  }
  if (outcome === 'fail') {
    refuseAuthentication(conn, 'enhanced authentication failed');
    return;
  }
  conn.login(exchange.packet, exchange.assigned, { ok: true, reason: 0 });
}
