/**
 * PUBACK, PUBREC, PUBREL, PUBCOMP in both directions. Inbound acks settle the core's outbound
 * window; outbound acks may wait for a store commit, and then every later ack waits behind
 * them so acknowledgements keep the order of the PUBLISHes [MQTT-4.6.0-2].
 */
import { ProtocolError } from '../../../errors.js';
import type { MqttConnection } from '../connection.js';
import { Phase } from '../../../gateway/shell.js';
import { PACKET_NAMES, PacketType, ReasonCode } from '../codec/constants.js';
import { NO_RELEASE, OutState } from '../../../core/session.js';
import type { AckPacket, AckType } from '../codec/packets.js';
import { encodeAck } from '../codec/encode-ack.js';
import type { StoreFullError } from '../../../store/types.js';

/**
 * Throws when `id` names a delivery that an ack of `type` does not fit: PUBACK for QoS 2, PUBREC
 * or PUBCOMP for QoS 1, PUBCOMP before PUBREC. A protocol error (5.0 sections 1.2 and 4.13,
 * 3.1.1 section 4.8), found before the core acts, so the delivery stays for its resend. An
 * unknown id is not one: a late or repeated ack.
 */
function checkFlow(conn: MqttConnection, type: number, id: number): void {
  const out = conn.client!.session?.inflight.get(id);
  if (out === undefined) return;
  if (out.qos !== (type === PacketType.PUBACK ? 1 : 2)) {
    throw new ProtocolError(`${PACKET_NAMES[type]} for packet identifier ${id}, which is a QoS ${out.qos} delivery`);
  }
  if (type === PacketType.PUBCOMP && out.state !== OutState.Released) {
    throw new ProtocolError(`PUBCOMP for packet identifier ${id}, whose QoS 2 delivery still waits for PUBREC`);
  }
}

/** PUBACK from the client: the QoS 1 delivery is done. */
export function handlePuback(conn: MqttConnection, packet: AckPacket): void {
  // Checked only when the core did not take it: the good path costs nothing more.
  if (!conn.client!.acknowledge(packet.packetId)) checkFlow(conn, PacketType.PUBACK, packet.packetId);
}

/** PUBREC from the client: answer PUBREL (unless the client refused the message). */
export function handlePubrec(conn: MqttConnection, packet: AckPacket): void {
  const client = conn.client!;
  const reason = client.received(packet.packetId, packet.reasonCode);
  if (reason === NO_RELEASE) return;
  if (reason === ReasonCode.PacketIdNotFound) checkFlow(conn, PacketType.PUBREC, packet.packetId);
  // A persistent session stored "released": PUBREL waits for that commit, or a crash in between
  // would make the restarted broker send the PUBLISH again after the client delivered it.
  sendAck(conn, PacketType.PUBREL, packet.packetId, reason, client.session!.persistent);
}

/** PUBREL from the client: the inbound QoS 2 id is released; answer PUBCOMP. */
export function handlePubrel(conn: MqttConnection, packet: AckPacket): void {
  const found = conn.client!.releaseQos2(packet.packetId);
  const reason = found ? ReasonCode.Success : ReasonCode.PacketIdNotFound;
  sendAck(conn, PacketType.PUBCOMP, packet.packetId, reason, false);
}

/** PUBCOMP from the client: the outbound QoS 2 delivery is done. */
export function handlePubcomp(conn: MqttConnection, packet: AckPacket): void {
  checkFlow(conn, PacketType.PUBCOMP, packet.packetId);
  conn.client!.completed(packet.packetId);
}

class DeferredAck {
  constructor(
    readonly conn: MqttConnection,
    readonly type: number,
    readonly packetId: number,
    readonly reason: number,
    /** It waits for its own writes (not only behind an earlier ack, to keep the order). */
    readonly stored: boolean,
  ) {}
}

function flushDeferred(ack: DeferredAck, failure: StoreFullError | null): void {
  const conn = ack.conn;
  conn.pendingCommitAcks--;
  if (failure !== null && ack.stored && (ack.type === PacketType.PUBACK || ack.type === PacketType.PUBREC)) {
    refuseUnstored(conn, ack, failure);
    return;
  }
  writeAck(conn, ack.type, ack.packetId, ack.reason);
}

/**
 * The store could not keep an inbound QoS 1/2 message (--max-store-size, a full or failing disk):
 * 5.0 answers 0x97 Quota exceeded; 3.1.1 cannot say no, so the connection closes without the ack
 * and the client sends the message again when it reconnects. Either way the QoS 2 id is forgotten,
 * so that resend is routed, not taken for a duplicate.
 */
function refuseUnstored(conn: MqttConnection, ack: DeferredAck, failure: StoreFullError): void {
  if (ack.type === PacketType.PUBREC) conn.client?.releaseQos2(ack.packetId);
  conn.logDebug('publish not acknowledged: the store could not keep it', { packetId: ack.packetId, detail: failure.message });
  if (conn.version === 5) {
    writeAck(conn, ack.type, ack.packetId, ReasonCode.QuotaExceeded);
    return;
  }
  conn.inboundUnacked--;
  conn.closeReason = 'quota-exceeded';
  conn.disconnectWith(ReasonCode.QuotaExceeded, failure.message);
}

function writeAck(conn: MqttConnection, type: number, packetId: number, reason: number): void {
  // The inbound flow is settled: PUBACK, a refusing PUBREC, or PUBCOMP for a known id.
  if (type === PacketType.PUBACK || (type === PacketType.PUBREC && reason >= 0x80) || (type === PacketType.PUBCOMP && reason === 0)) {
    conn.inboundUnacked--;
  }
  if (conn.phase !== Phase.Online) return;
  conn.write(encodeAck(type as AckType, conn.version, packetId, conn.version === 5 ? reason : 0));
}

/** Sends an ack now, or after the store commit when `afterCommit` (or an earlier ack waits). */
export function sendAck(conn: MqttConnection, type: number, packetId: number, reason: number, afterCommit: boolean): void {
  if (afterCommit || conn.pendingCommitAcks > 0) {
    conn.pendingCommitAcks++;
    conn.kit.afterCommit(flushDeferred, new DeferredAck(conn, type, packetId, reason, afterCommit));
    return;
  }
  writeAck(conn, type, packetId, reason);
}
