/**
 * CONNECT [MQTT-3.1]: client id rules, authentication (possibly asynchronous), enhanced
 * authentication, session attach or takeover, will, keep-alive, and CONNACK with the MQTT 5
 * properties that tell the client our limits.
 */
import { randomBytes } from 'node:crypto';
import { ConnState, type MqttConnection } from '../connection.js';
import { ReasonCode } from '../constants.js';
import { encodeConnack } from '../codec/encode.js';
import { EXPIRY_NEVER } from '../../../core/broker.js';
import { Message } from '../../../core/message.js';
import { validateTopicName } from '../../../core/topic.js';
import type { AuthResult, ConnectInfo } from '../../../core/auth.js';
import type { ConnackProperties, ConnectPacket } from '../packets.js';
import { isWellFormedUtf8 } from '../codec/utf8.js';
import { applicationProperties } from './message-properties.js';

// Interned: a template string per connection would cost memory per session.
const PROTOCOL_NAMES = ['', '', '', 'mqtt/3', 'mqtt/4', 'mqtt/5'];

/** Handles the first packet of a connection. */
export function handleConnect(conn: MqttConnection, packet: ConnectPacket, _buf: Buffer, _start: number, _end: number): void {
  conn.version = packet.protocolVersion;
  const ctx = conn.ctx;
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
  conn.username = packet.username;

  const admission = ctx.security.policy?.admission(conn.link) ?? 0;
  if (admission !== 0) {
    const why = admission === ReasonCode.ServerBusy ? 'server busy (memory above --max-memory)' : 'connection rate exceeded (--max-connection-rate)';
    if (ctx.logLimit.allow('admission')) ctx.log.warn('connection refused', { clientId, address: conn.link.remoteAddress, detail: why });
    refuse(conn, admission, why);
    return;
  }

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

  const info: ConnectInfo = {
    clientId,
    username: packet.username,
    password: packet.password,
    remoteAddress: conn.link.remoteAddress,
    protocol: `mqtt/${packet.protocolVersion}`,
    transport: conn.link.transport,
    peerIdentity: conn.link.peerIdentity ?? null,
  };

  if (props.authenticationMethod !== undefined) {
    const method = ctx.security.methods.get(props.authenticationMethod);
    if (method === undefined) {
      refuse(conn, ReasonCode.BadAuthenticationMethod, `authentication method '${props.authenticationMethod}' is not supported`);
      return;
    }
    const step = method.start(info, props.authenticationData ?? null);
    if (step.outcome === 'fail') {
      refuse(conn, ReasonCode.NotAuthorized, 'enhanced authentication failed');
      return;
    }
    if (step.outcome === 'continue') {
      conn.authState = { method, info, packet, assigned, state: step.state };
      conn.state = ConnState.EnhancedAuth;
      conn.sendAuthContinue(props.authenticationMethod, step.data);
      return;
    }
  }

  const decision = ctx.security.authenticator.authenticate(info);
  if (decision instanceof Promise) {
    conn.state = ConnState.Authenticating;
    conn.link.pause();
    decision.then(
      (result) => {
        if (conn.state !== ConnState.Authenticating) return;
        conn.state = ConnState.AwaitingConnect;
        if (admit(conn, packet, result, assigned)) conn.resumeAfterAuth();
      },
      (err: unknown) => {
        if (conn.state !== ConnState.Authenticating) return;
        ctx.log.warn('authentication provider failed; refusing the client', { clientId, error: err });
        conn.state = ConnState.AwaitingConnect;
        refuse(conn, ReasonCode.ServerUnavailable, 'authentication unavailable');
      },
    );
    return;
  }
  admit(conn, packet, decision, assigned);
}

/** Completes a CONNECT once authentication said yes or no; true if the client is in. */
export function admit(conn: MqttConnection, packet: ConnectPacket, result: AuthResult, assigned: boolean): boolean {
  const ctx = conn.ctx;
  if (!result.ok) {
    ctx.broker.metrics.connectionsRefused++;
    if (ctx.logLimit.allow('auth:' + conn.link.remoteAddress)) {
      ctx.log.info('connection refused: not authorized', { clientId: conn.clientId, address: conn.link.remoteAddress, reason: '0x' + result.reason.toString(16), detail: result.detail ?? '' });
    }
    refuse(conn, result.reason, 'not authorized');
    return false;
  }
  if (result.username !== undefined) conn.username = result.username;
  const policy = ctx.security.policy;
  if (policy !== undefined) conn.guard = policy.guard(conn.clientId, conn.username, result.grants ?? null, conn);
  const v5 = packet.protocolVersion === 5;
  const limits = ctx.limits;
  const props = packet.properties;

  const requested = v5 ? (props.sessionExpiryInterval ?? 0) : packet.cleanStart ? 0 : EXPIRY_NEVER;
  const { session, sessionPresent } = ctx.broker.connect(conn.clientId, PROTOCOL_NAMES[packet.protocolVersion]!, packet.cleanStart, requested, conn);
  conn.session = session;
  conn.state = ConnState.Connected;

  let keepAlive = packet.keepAlive;
  let serverKeepAlive: number | undefined;
  if (v5 && (keepAlive === 0 || keepAlive > limits.maxKeepalive)) {
    keepAlive = limits.maxKeepalive;
    serverKeepAlive = keepAlive;
  }
  conn.keepAliveMs = keepAlive * 1000;
  const wheel = ctx.broker.wheel;
  if (keepAlive > 0) wheel.schedule(conn, wheel.now + conn.keepAliveMs * 1.5);
  else wheel.cancel(conn);

  if (packet.will !== null) {
    const w = packet.will;
    const wp = w.properties;
    conn.will = {
      message: new Message(w.topic, Buffer.from(w.payload), w.qos, w.retain, applicationProperties(wp), 0, conn.clientId),
      delay: wp.willDelayInterval ?? 0,
      expiryInterval: wp.messageExpiryInterval ?? 0,
    };
  }

  const connack: ConnackProperties = {};
  if (v5) {
    connack.receiveMaximum = limits.receiveMaximum;
    connack.maximumPacketSize = limits.maxPacketSize;
    if (limits.topicAliasMaximum > 0) connack.topicAliasMaximum = limits.topicAliasMaximum;
    connack.retainAvailable = 1;
    connack.wildcardSubscriptionAvailable = 1;
    connack.subscriptionIdentifierAvailable = 1;
    connack.sharedSubscriptionAvailable = 1;
    if (assigned) connack.assignedClientIdentifier = conn.clientId;
    if (serverKeepAlive !== undefined) connack.serverKeepAlive = serverKeepAlive;
    if (session.expiryInterval !== requested) connack.sessionExpiryInterval = session.expiryInterval;
  }
  conn.send(encodeConnack(packet.protocolVersion, { type: 2, sessionPresent, reasonCode: 0, properties: connack }));
  ctx.broker.metrics.connectionsOpened++;
  conn.cleanStart = packet.cleanStart;
  ctx.events.connected(conn.clientInfo());
  conn.logDebug('client connected', { protocol: `mqtt/${packet.protocolVersion}`, cleanStart: packet.cleanStart, keepAlive, sessionPresent });
  ctx.broker.resume(session);
  return true;
}

/** CONNACK with a refusal (5.0 reason, or the 3.1.1 return code), then close [MQTT-3.2.2-7]. */
export function refuse(conn: MqttConnection, reason: number, reasonString: string): void {
  const v5 = conn.version === 5;
  const properties: ConnackProperties = v5 && reasonString !== '' ? { reasonString } : {};
  // The encoder maps the 5.0 reason to the 3.1.1 return code for older clients.
  conn.send(encodeConnack(conn.version, { type: 2, sessionPresent: false, reasonCode: reason, properties }));
  const auth = reason === ReasonCode.NotAuthorized || reason === ReasonCode.BadUserNameOrPassword || reason === ReasonCode.BadAuthenticationMethod;
  if (auth && conn.clientId !== '') conn.ctx.events.disconnected(conn.clientInfo(), 'auth-failure');
  conn.close(auth ? 'auth-failure' : 'protocol-error', false);
}
