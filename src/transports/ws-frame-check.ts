/**
 * Follows the client's side of a WebSocket byte stream (the bytes the wss front pipes to
 * uWebSockets.js): the HTTP upgrade request, then each frame's header, skipping payloads by
 * arithmetic. It exists because uWebSockets.js 20.30's server parser assumes every client frame
 * carries a masking key and never looks at the MASK bit, so an unmasked frame (RFC 6455 5.1:
 * the server MUST close) would be read with four payload bytes taken for a key and the stream
 * desynchronised. The check reports the first unmasked frame so the front can close.
 */

const enum State {
  /** In the HTTP request, until CR LF CR LF. */
  Request = 0,
  /** Reading a frame header (2 to 14 bytes). */
  Header = 1,
  /** Skipping `remaining` payload bytes. */
  Payload = 2,
}

export class ClientFrameCheck {
  private state = State.Request;
  /** Bytes of CR LF CR LF matched so far. */
  private matched = 0;
  private readonly header = Buffer.alloc(14);
  private have = 0;
  private need = 2;
  private remaining = 0;

  /** Follows `chunk`; false at the first unmasked client frame. */
  check(chunk: Buffer): boolean {
    let i = 0;
    const end = chunk.length;
    while (i < end) {
      if (this.state === State.Request) {
        const byte = chunk[i++]!;
        const expected = this.matched % 2 === 0 ? 0x0d : 0x0a;
        this.matched = byte === expected ? this.matched + 1 : byte === 0x0d ? 1 : 0;
        if (this.matched === 4) this.startHeader();
        continue;
      }
      if (this.state === State.Payload) {
        const skip = Math.min(this.remaining, end - i);
        i += skip;
        this.remaining -= skip;
        if (this.remaining === 0) this.startHeader();
        continue;
      }
      this.header[this.have++] = chunk[i++]!;
      if (this.have === 2) {
        if ((this.header[1]! & 0x80) === 0) return false;
        const len7 = this.header[1]! & 0x7f;
        this.need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + 4;
      }
      if (this.have < this.need) continue;
      const len7 = this.header[1]! & 0x7f;
      this.remaining = len7 === 126 ? this.header.readUInt16BE(2) : len7 === 127 ? Number(this.header.readBigUInt64BE(2)) : len7;
      if (this.remaining === 0) this.startHeader();
      else this.state = State.Payload;
    }
    return true;
  }

  private startHeader(): void {
    this.state = State.Header;
    this.have = 0;
    this.need = 2;
  }
}
