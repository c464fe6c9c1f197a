/**
 * CONNECT [MQTT-3.1]: client id rules, the will's form, enhanced authentication, admission
 * through the gateway (limits, authentication, the client's rights, possibly asynchronous), the
 * will's topic against those rights, session attach or takeover, keep-alive, and CONNACK with the
 * MQTT 5 properties that tell the client our limits.
 */
import { randomBytes } from 'node:crypto';
import type { MqttConnection } from '../connection.js';
import { ReasonCode } from '../codec/constants.js';
import { encodeConnack, setConnackSessionPresent } from '../codec/encode.js';
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
  const props = packet.properties;
  if (v5) {
    // First: every answer from here on, refusals included, must fit the client's Maximum Packet Size.
    if (props.receiveMaximum !== undefined) conn.sendWindow = props.receiveMaximum;
    if (props.maximumPacketSize !== undefined) conn.clientMaxPacketSize = props.maximumPacketSize;
    if (props.topicAliasMaximum !== undefined) conn.outbound.topicAliasMaximum = props.topicAliasMaximum;
    if (props.requestProblemInformation === 0) conn.requestProblemInformation = false;
  }
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

  const will = packet.will;
  if (will !== null) {
    const bad = validateTopicName(will.topic);
    if (bad !== null) {
      refuse(conn, ReasonCode.TopicNameInvalid, `will topic: ${bad}`);
      return;
    }
    const maximumQos = conn.config.maximumQos;
    if (will.qos > maximumQos) {
      refuseUnsupported(conn, ReasonCode.QoSNotSupported, `will QoS ${will.qos} is above the maximum QoS ${maximumQos} (--maximum-qos)`);
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
    const refusal = client.checkPublish(w.topic, w.retain);
    if (refusal === Refusal.RetainNotSupported) {
      refuseUnsupported(conn, ReasonCode.RetainNotSupported, `will retain: ${client.refusalDetail}`);
      return;
    }
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
  let keepAlive = packet.keepAlive;
  let serverKeepAlive: number | undefined;
  if (v5 && (keepAlive === 0 || keepAlive > config.maxKeepalive)) {
    keepAlive = config.maxKeepalive;
    serverKeepAlive = keepAlive;
  }

  // 3.1.1 has no CONNACK properties: no object for them.
  const connack: ConnackProperties | undefined = v5 ? {} : undefined;
  if (connack !== undefined) {
    connack.receiveMaximum = config.receiveMaximum;
    connack.maximumPacketSize = config.maxPacketSize;
    if (config.topicAliasMaximum > 0) connack.topicAliasMaximum = config.topicAliasMaximum;
    // Maximum QoS is sent only below 2 (section 3.2.2.3.4).
    if (config.maximumQos < 2) connack.maximumQoS = config.maximumQos as 0 | 1;
    connack.retainAvailable = conn.kit.options.retainAvailable ? 1 : 0;
    connack.wildcardSubscriptionAvailable = 1;
    connack.subscriptionIdentifierAvailable = 1;
    connack.sharedSubscriptionAvailable = 1;
    if (assigned) connack.assignedClientIdentifier = conn.clientId;
    if (serverKeepAlive !== undefined) connack.serverKeepAlive = serverKeepAlive;
    const granted = client.cappedExpiry(requested);
    if (granted !== requested) connack.sessionExpiryInterval = granted;
  }
  const accepted = encodeConnack(packet.protocolVersion, { type: 2, sessionPresent: false, reasonCode: 0, properties: connack });
  if (!conn.fitsClient(accepted)) {
    // [MQTT-3.1.2-24], before the session is touched: a client that cannot take the CONNACK never connected.
    conn.logDebug('connection closed: the CONNACK is larger than the Maximum Packet Size of the client', { connackBytes: accepted.length, maximumPacketSize: conn.clientMaxPacketSize });
    conn.close('protocol-error', false);
    return;
  }

  const sessionPresent = client.attach(packet.cleanStart, requested);
  conn.keepAliveMs = keepAlive * 1000;
  const wheel = conn.kit.wheel;
  if (keepAlive > 0) wheel.schedule(conn, wheel.now + conn.keepAliveMs * 1.5);
  else wheel.cancel(conn);

  if (w !== null) {
    const wp = w.properties;
    conn.will = {
      // The payload is the will's own: decodeConnect reads binary fields as copies.
      message: new Message(w.topic, w.payload, w.qos, w.retain, applicationProperties(wp), 0, conn.clientId),
      delay: wp.willDelayInterval ?? 0,
      expiryInterval: wp.messageExpiryInterval ?? 0,
    };
  }

  // 3.1 has no session present flag.
  if (sessionPresent && packet.protocolVersion !== 3) setConnackSessionPresent(accepted);
  conn.write(accepted);
  conn.cleanStart = packet.cleanStart;
  conn.online();
  conn.logDebug('client connected', { protocol: PROTOCOL_NAMES[packet.protocolVersion], cleanStart: packet.cleanStart, keepAlive, sessionPresent });
  client.declareWill(conn.will);
  client.resume();
}

/** A refusal of enhanced authentication: counted and told to the hooks like any failed login. */
export function refuseAuthentication(conn: MqttConnection, detail: string): void {
  conn.kit.metrics.connectionsRefused++;
  conn.kit.clientDisconnected(conn, 'auth-failure');
  conn.logDebug('connection refused', { detail });
  refuse(conn, ReasonCode.NotAuthorized, detail);
}

/** CONNACK with a refusal (5.0 reason, or the 3.1.1 return code), then close [MQTT-3.2.2-7]. */
export function refuse(conn: MqttConnection, reason: number, reasonString: string): void {
  const v5 = conn.version === 5;
  // The encoder maps the 5.0 reason to the 3.1.1 return code for older clients.
  let answer = encodeConnack(conn.version, { type: 2, sessionPresent: false, reasonCode: reason, properties: v5 && reasonString !== '' ? { reasonString } : {} });
  // The Reason String goes first when the CONNACK would not fit the client [MQTT-3.2.2-19]; a bare one that still does not is not sent.
  if (!conn.fitsClient(answer)) answer = encodeConnack(conn.version, { type: 2, sessionPresent: false, reasonCode: reason, properties: {} });
  if (conn.fitsClient(answer)) conn.write(answer);
  const auth = reason === ReasonCode.NotAuthorized || reason === ReasonCode.BadUserNameOrPassword || reason === ReasonCode.BadAuthenticationMethod;
  conn.close(auth ? 'auth-failure' : 'protocol-error', false);
}

/**
 * A refusal 3.1/3.1.1 has no return code for (a will's QoS or retain the server does not
 * support): 5.0 gets its CONNACK reason; older clients are closed without CONNACK, as 3.1.1
 * requires when no return code applies [MQTT-3.2.2-6].
 */
function refuseUnsupported(conn: MqttConnection, reason: number, reasonString: string): void {
  if (conn.version === 5) {
    refuse(conn, reason, reasonString);
    return;
  }
  conn.logDebug('connection refused', { reason: '0x' + reason.toString(16), detail: reasonString });
  conn.close('protocol-error', false);
}
