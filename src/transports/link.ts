/**
 * The byte pipe a transport hands a protocol: TCP and TLS sockets now, uWebSockets.js later.
 * Protocols see only this, so they never depend on a transport.
 */

export type TransportName = 'tcp' | 'tls' | 'ws' | 'wss';

export interface Link {
  readonly transport: TransportName;
  readonly remoteAddress: string;
  readonly remotePort: number;
  peerIdentity?: string | null; // CN (or first SAN) of a verified TLS client certificate, else null/absent
  /** Queues bytes; returns false when the transport's buffer is above its high-water mark. */
  write(data: Buffer): boolean;
  /** Batches writes until uncork (one syscall per event-loop turn for a fan-out). */
  cork(): void;
  uncork(): void;
  /** Stops reading (backpressure on a flooding client) until resume. */
  pause(): void;
  resume(): void;
  /** Flushes what is queued, then closes. */
  end(): void;
  /** Closes at once. */
  destroy(): void;
  /** Bytes queued but not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /**
   * How long the connection was open, silent, before this link was made (the native TCP
   * transport makes links at the first bytes): login deadlines count from the accept.
   */
  readonly silentForMs?: number;
  /**
   * Asks the transport to find MQTT frames itself (the native TCP transport does, in Rust) and
   * hand whole frames with their scan records to `LinkHandler.onFrames`, from the next read on.
   * Called only while the protocol holds no partial frame; the transport goes back to onData
   * (framing off) when it meets something it leaves to the protocol, which may then ask again.
   */
  frameMqtt?(maxPacketSize: number, v5: boolean): void;
}

/** What a protocol gives a transport for each accepted link. */
export interface LinkHandler {
  onData(chunk: Buffer): void;
  /**
   * Whole MQTT frames the transport scanned (after frameMqtt): `chunk` holds them and nothing
   * else; their records are `scan[block + SCAN_HEADER + i * SCAN_STRIDE ...]`, i < scan[block]
   * (block is a multiple of SCAN_STRIDE, so record i is index block / SCAN_STRIDE + i).
   */
  onFrames?(chunk: Buffer, scan: Uint32Array, block: number): void;
  onDrain(): void;
  onClose(hadError: boolean): void;
}

/** Creates the protocol side of a new link. */
export type LinkAcceptor = (link: Link) => LinkHandler | null;
