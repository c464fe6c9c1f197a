/**
 * What Junction reads of nats.js 3.x beyond its public API, in one place: a received message's
 * raw bytes (headers read without a MsgHdrs per message), the connection's protocol handler (PUBs
 * with a cached control line) and its socket (paused past --cluster-ingest-per-turn). Each
 * accessor returns null when the field is not there, and its caller falls back to the public API;
 * tests assert the fields exist, so an upgrade of nats.js that moves them fails there, not slowly.
 */
import { Socket } from 'node:net';
import type { Msg, NatsConnection } from '@nats-io/transport-node';

/** nats.js's MsgImpl: the raw bytes (header block, then payload) and the header block's length (-1: none). */
interface RawMsg {
  _msg?: { hdr?: unknown };
  _rdata?: unknown;
}

/** The raw bytes of a received message (its header block, then its payload), or null. */
export function rawBytes(m: Msg): Uint8Array | null {
  const data = (m as unknown as RawMsg)._rdata;
  return data instanceof Uint8Array ? data : null;
}

/** The length of a received message's header block within rawBytes (-1: none), or null. */
export function rawHeaderLength(m: Msg): number | null {
  const hdr = (m as unknown as RawMsg)._msg?.hdr;
  return typeof hdr === 'number' ? hdr : null;
}

/** What nats.js's ProtocolHandler offers a publisher. */
export interface NatsProtocol {
  sendCommand(cmd: Uint8Array, ...payloads: Uint8Array[]): void;
  noMorePublishing: boolean;
  outMsgs: number;
  outBytes: number;
  info?: { max_payload?: number };
}

/** The connection's protocol handler (nc.protocol), or null. */
export function protocolOf(nc: NatsConnection): NatsProtocol | null {
  const p = (nc as unknown as { protocol?: Partial<NatsProtocol> }).protocol;
  return p !== undefined && typeof p.sendCommand === 'function' && typeof p.outMsgs === 'number' ? (p as NatsProtocol) : null;
}

/** The connection's node:net socket (nc.protocol.transport.socket), or null. */
export function socketOf(nc: NatsConnection | null): Socket | null {
  const socket = (nc as unknown as { protocol?: { transport?: { socket?: unknown } } } | null)?.protocol?.transport?.socket;
  return socket instanceof Socket ? socket : null;
}
