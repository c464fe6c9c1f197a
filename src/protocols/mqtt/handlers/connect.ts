/**
 * CONNECT [MQTT-3.1]: client id rules, the will's form, enhanced authentication, admission
 * through the gateway (limits, authentication, the client's rights, possibly asynchronous), the
 * will's topic against those rights, session attach or takeover, keep-alive, and CONNACK with the
 * MQTT 5 properties that tell the client our limits.
 */
import { randomBytes } from 'node:crypto';
import type { MqttConnection } from '../connection.js';
import { ReasonCode } from '../codec/constants.js';
import { encodeConnack } from '../codec/encode.js';
import { EXPIRY_NEVER } from '../../../core/session.js';
import { Message } from '../../../core/message.js';
import { validateTopicName } from '../../../core/topic.js';
import type { ConnectInfo, EnhancedAuthMethod } from '../../../core/auth.js';
import type { Admission } from '../../../gateway/context.js';
import { ADMISSION_REASON_CODES, Refusal } from '../../../gateway/refusal.js';
import type { ConnackProperties, ConnectPacket } from '../codec/packets.js';
import { isWellFormedUtf8 } from '../codec/utf8.js';
import { applicationProperties } from './message-properties.js';

// Interned: a template string per connection would cost memory per session.
const PROTOCOL_NAMES = ['', '', '', 'mqtt/3', 'mqtt/4', 'mqtt/5'];

/** The enhanced authentication exchange a CONNECT started (kept on the connection between AUTH packets). */
export interface AuthExchange {
  readonly method: EnhancedAuthMethod;
  readonly info: ConnectInfo;
  /** The CONNECT it belongs to; null for re-authentication of a live connection. */
  readonly packet: ConnectPacket | null;
  readonly assigned: boolean;
  state: unknown;
}

/** Handles the first packet of a connection. */
export function handleConnect(conn: MqttConnection, packet: ConnectPacket): void {
  conn.version = packet.protocolVersion;
  const v5 = packet.protocolVersion === 5;
  let clientId = packet.clientId;
  let assigned = false;
  if (clientId === '') {
    // 3.1 requires an id; 3.1.1 allows an empty one only with a clean session [MQTT-3.1.3-8].
    if (packet.protocolVersion === 3 || (packet.protocolVersion === 4 && !packet.cleanStart)) {
      refuse(conn, ReasonCode.ClientIdNotValid, 'empty client identifier needs clean session');
      return;
    }
    clientId = 'junction-' + randomBytes(9).toString('base64url');
    assigned = true;
  }
  conn.clientId = clientId;

  const props = packet.properties;
  if (v5) {
    if (props.receiveMaximum !== undefined) conn.sendWindow = props.receiveMaximum;
    if (props.maximumPacketSize !== undefined) conn.clientMaxPacketSize = props.maximumPacketSize;
    if (props.topicAliasMaximum !== undefined) conn.outbound.topicAliasMaximum = props.topicAliasMaximum;
    if (props.requestProblemInformation === 0) conn.requestProblemInformation = false;
  }

  const will = packet.will;
  if (will !== null) {
    const bad = validateTopicName(will.topic);
    if (bad !== null) {
      refuse(conn, ReasonCode.TopicNameInvalid, `will topic: ${bad}`);
      return;
    }
    if (will.properties.payloadFormatIndicator === 1 && !isWellFormedUtf8(will.payload, 0, will.payload.length)) {
      refuse(conn, ReasonCode.PayloadFormatInvalid, 'will payload is not UTF-8 although Payload Format Indicator is 1');
      return;
    }
  }

  if (props.authenticationMethod !== undefined) {
    const method = conn.kit.authMethod(props.authenticationMethod);
    if (method === undefined) {
      refuse(conn, ReasonCode.BadAuthenticationMethod, `authentication method '${props.authenticationMethod}' is not supported`);
      return;
    }
    const info: ConnectInfo = {
      clientId,
      username: packet.username,
      password: packet.password,
      remoteAddress: conn.link.remoteAddress,
      protocol: PROTOCOL_NAMES[packet.protocolVersion]!,
      transport: conn.link.transport,
      peerIdentity: conn.link.peerIdentity ?? null,
    };
    const step = method.start(info, props.authenticationData ?? null);
    if (step.outcome === 'fail') {
      refuseAuthentication(conn, 'enhanced authentication failed');
      return;
    }
    if (step.outcome === 'continue') {
      const exchange: AuthExchange = { method, info, packet, assigned, state: step.state };
      conn.authState = exchange;
      conn.sendAuthContinue(props.authenticationMethod, step.data);
      return;
    }
    conn.login(packet, assigned, { ok: true, reason: 0 });
    return;
  }
  conn.login(packet, assigned);
}

/** Completes a CONNECT once admission answered: CONNACK, the session, the will; or a refusal. */
export function completeConnect(conn: MqttConnection, packet: ConnectPacket, answer: Admission, assigned: boolean): void {
  if (!answer.ok) {
    refuse(conn, ADMISSION_REASON_CODES[answer.refusal], answer.refusal === 'bad-credentials' || answer.refusal === 'not-authorized' ? 'not authorized' : answer.detail);
    return;
  }
  const client = (conn.client = answer.client);
  const w = packet.will;
  if (w !== null) {
    // The will is published later by the broker: it must be this client's to publish now.
    const refusal = client.checkPublish(w.topic);
    if (refusal !== Refusal.None) {
      conn.logDebug('connection refused: the will topic is not allowed', { topic: w.topic, detail: client.refusalDetail });
      refuse(conn, refusal === Refusal.TopicInvalid ? ReasonCode.TopicNameInvalid : ReasonCode.NotAuthorized, `will topic: ${client.refusalDetail || 'not authorized'}`);
      return;
    }
  }
  const v5 = packet.protocolVersion === 5;
  const config = conn.config;
  const props = packet.properties;

  const requested = v5 ? (props.sessionExpiryInterval ?? 0) : packet.cleanStart ? 0 : EXPIRY_NEVER;
  const sessionPresent = client.attach(packet.cleanStart, requested);
  const session = client.session!;

  let keepAlive = packet.keepAlive;
  let serverKeepAlive: number | undefined;
  if (v5 && (keepAlive === 0 || keepAlive > config.maxKeepalive)) {
    keepAlive = config.maxKeepalive;
    serverKeepAlive = keepAlive;
  }
  conn.keepAliveMs = keepAlive * 1000;
  const wheel = conn.kit.wheel;
  if (keepAlive > 0) wheel.schedule(conn, wheel.now + conn.keepAliveMs * 1.5);
  else wheel.cancel(conn);

  if (w !== null) {
    const wp = w.properties;
    conn.will = {
      message: new Message(w.topic, Buffer.from(w.payload), w.qos, w.retain, applicationProperties(wp), 0, conn.clientId),
      delay: wp.willDelayInterval ?? 0,
      expiryInterval: wp.messageExpiryInterval ?? 0,
    };
  }

  const connack: ConnackProperties = {};
  if (v5) {
    connack.receiveMaximum = config.receiveMaximum;
    connack.maximumPacketSize = config.maxPacketSize;
    if (config.topicAliasMaximum > 0) connack.topicAliasMaximum = config.topicAliasMaximum;
    connack.retainAvailable = 1;
    connack.wildcardSubscriptionAvailable = 1;
    connack.subscriptionIdentifierAvailable = 1;
    connack.sharedSubscriptionAvailable = 1;
    if (assigned) connack.assignedClientIdentifier = conn.clientId;
    if (serverKeepAlive !== undefined) connack.serverKeepAlive = serverKeepAlive;
    if (session.expiryInterval !== requested) connack.sessionExpiryInterval = session.expiryInterval;
  }
  conn.write(encodeConnack(packet.protocolVersion, { type: 2, sessionPresent, reasonCode: 0, properties: connack }));
  conn.cleanStart = packet.cleanStart;
  conn.online();
  conn.logDebug('client connected', { protocol: PROTOCOL_NAMES[packet.protocolVersion], cleanStart: packet.cleanStart, keepAlive, sessionPresent });
  client.resume();
}

/** A refusal of enhanced authentication: counted and told to the hooks like any failed login. */
export function refuseAuthentication(conn: MqttConnection, detail: string): void {
  conn.kit.metrics.connectionsRefused++;
  conn.kit.clientDisconnected(conn.clientInfo(), 'auth-failure');
  conn.logDebug('connection refused', { detail });
  refuse(conn, ReasonCode.NotAuthorized, detail);
}

/** CONNACK with a refusal (5.0 reason, or the 3.1.1 return code), then close [MQTT-3.2.2-7]. */
export function refuse(conn: MqttConnection, reason: number, reasonString: string): void {
  const v5 = conn.version === 5;
  const properties: ConnackProperties = v5 && reasonString !== '' ? { reasonString } : {};
  // The encoder maps the 5.0 reason to the 3.1.1 return code for older clients.
  conn.write(encodeConnack(conn.version, { type: 2, sessionPresent: false, reasonCode: reason, properties }));
  const auth = reason === ReasonCode.NotAuthorized || reason === ReasonCode.BadUserNameOrPassword || reason === ReasonCode.BadAuthenticationMethod;
  conn.close(auth ? 'auth-failure' : 'protocol-error', false);
}
