/**
 * The least WebSocket client the generator needs (RFC 6455): the upgrade request, binary frames
 * out and frames in. Frames go out with an all-zero mask key, which every server must accept and
 * which leaves the payload as it is, so a pre-encoded MQTT buffer is written without a copy.
 */

import { randomBytes } from 'node:crypto';

const OP_CONTINUATION = 0x0;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
/** Frames larger than this are refused: the generator never expects more than a few packets per frame. */
const MAX_FRAME = 64 * 1024 * 1024;

/** The HTTP upgrade request for `path` on `host` asking for the mqtt subprotocol. */
export function upgradeRequest(host: string, port: number, path: string): Buffer {
  const key = randomBytes(16).toString('base64');
  return Buffer.from(
    `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` + `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`,
    'latin1',
  );
}

/** The 2..14-byte header of a masked (zero key) binary frame carrying `length` bytes. */
export function frameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x80 | OP_BINARY, 0x80 | length, 0, 0, 0, 0]);
  if (length < 65536) {
    const h = Buffer.alloc(8);
    h[0] = 0x80 | OP_BINARY;
    h[1] = 0x80 | 126;
    h.writeUInt16BE(length, 2);
    return h;
  }
  const h = Buffer.alloc(14);
  h[0] = 0x80 | OP_BINARY;
  h[1] = 0x80 | 127;
  h.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
  h.writeUInt32BE(length >>> 0, 6);
  return h;
}

/** What WsDecoder found in a chunk. */
export interface WsOutput {
  /** MQTT bytes carried by binary and continuation frames, in order. */
  readonly data: Buffer[];
  /** True in the call that completed the upgrade: the client may send from now on [RFC 6455 4.1]. */
  opened: boolean;
  /** A ping payload to answer, if any. */
  pong: Buffer | null;
  /** The server closed or broke the protocol; the text says how. */
  error: string | null;
}

/** Turns the server's byte stream into the MQTT bytes inside its frames. */
export class WsDecoder {
  private upgraded = false;
  private pending: Buffer | null = null;

  /** Decodes one chunk; bytes of an incomplete frame are kept for the next call. */
  push(chunk: Buffer): WsOutput {
    const out: WsOutput = { data: [], opened: false, pong: null, error: null };
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    if (!this.upgraded) {
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buf.length > 16384) out.error = 'WebSocket upgrade answer longer than 16 KiB';
        else this.pending = buf;
        return out;
      }
      const status = buf.toString('latin1', 0, buf.indexOf('\r\n'));
      if (!/^HTTP\/1\.1 101 /.test(status)) {
        out.error = `WebSocket upgrade refused: ${status}`;
        return out;
      }
      this.upgraded = true;
      out.opened = true;
      buf = buf.subarray(end + 4);
    }
    let pos = 0;
    while (buf.length - pos >= 2) {
      const opcode = buf[pos]! & 0x0f;
      const masked = (buf[pos + 1]! & 0x80) !== 0;
      let length = buf[pos + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (buf.length - pos < 4) break;
        length = buf.readUInt16BE(pos + 2);
        header = 4;
      } else if (length === 127) {
        if (buf.length - pos < 10) break;
        length = buf.readUInt32BE(pos + 2) * 2 ** 32 + buf.readUInt32BE(pos + 6);
        header = 10;
      }
      if (length > MAX_FRAME) {
        out.error = `WebSocket frame of ${length} bytes is larger than ${MAX_FRAME}`;
        return out;
      }
      const maskAt = pos + header;
      if (masked) header += 4;
      if (buf.length - pos < header + length) break;
      let payload = buf.subarray(pos + header, pos + header + length);
      if (masked) {
        // Servers must not mask [RFC 6455 5.1], but unmasking costs little and keeps the run going.
        payload = Buffer.from(payload);
        for (let i = 0; i < payload.length; i++) payload[i]! ^= buf[maskAt + (i & 3)]!;
      }
      if (opcode === OP_BINARY || opcode === OP_CONTINUATION) out.data.push(payload);
      else if (opcode === OP_PING) out.pong = Buffer.concat([Buffer.from([0x8a, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
      else if (opcode === OP_CLOSE) {
        out.error = `WebSocket closed by the server${payload.length >= 2 ? ` (code ${payload.readUInt16BE(0)})` : ''}`;
        return out;
      }
      pos += header + length;
    }
    if (pos < buf.length) this.pending = Buffer.from(buf.subarray(pos));
    return out;
  }
}
