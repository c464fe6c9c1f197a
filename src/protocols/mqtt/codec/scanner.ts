/**
 * The MQTT frame scanner: finds every complete packet in a chunk in one call and reports them as
 * numbers in a caller-owned Uint32Array, so the hot path allocates nothing per packet. The Rust
 * twin in native/ copies this contract exactly; change both or neither.
 *
 * out[0] packets found
 * out[1] consumed: absolute offset where the first packet not reported starts (== end when all
 *        bytes formed complete packets); on an error, the offset of the bad packet
 * out[2] error code (SCAN_OK, SCAN_ERR_*)
 * out[3] error detail: SCAN_ERR_TOO_LARGE -> declared total size; other errors -> the offset of
 *        the bad packet's first byte; 0 without error
 * out[4 + i*10 ...] per packet: type, flags, packet offset, total length (with fixed header),
 *        variable header offset, then for PUBLISH only (else 0): topic offset, topic length,
 *        packet id (0 for QoS 0), properties offset, properties length (5.0 only: the bytes after
 *        the property length varint; else 0).
 *
 * Rules, in the order they are checked for each packet:
 * 1. The remaining length varint: when fewer bytes are there than it needs the packet is
 *    incomplete, unless 4 bytes with the continuation bit are present (SCAN_ERR_LENGTH).
 * 2. total = header bytes + remaining length; total > maxPacketSize -> SCAN_ERR_TOO_LARGE, even
 *    when the rest of the packet has not arrived (so the caller need not buffer it).
 * 3. Not all bytes present -> incomplete, scanning stops.
 * 4. PUBLISH (QoS = (flags >> 1) & 3, 3 treated as 2): topic length field or topic past the
 *    packet end, packet id past the end for QoS > 0, or (5.0) the property length varint
 *    running past the end or longer than 4 bytes, or the properties past the end ->
 *    SCAN_ERR_PUBLISH.
 * 5. No room in out for another stride -> stop before the packet (consumed = its offset).
 */

/** Slots before the first packet record. */
export const SCAN_HEADER = 4;
/** Slots per packet record. */
export const SCAN_STRIDE = 10;

/** No error. */
export const SCAN_OK = 0;
/** Remaining length needs more than 4 bytes. */
export const SCAN_ERR_LENGTH = 1;
/** Declared total size above maxPacketSize. */
export const SCAN_ERR_TOO_LARGE = 2;
/** PUBLISH whose topic, packet id or property length runs past the packet. */
export const SCAN_ERR_PUBLISH = 3;

/** Field indices within one packet record (see the layout above). */
export const SCAN_TYPE = 0;
export const SCAN_FLAGS = 1;
export const SCAN_OFFSET = 2;
export const SCAN_LENGTH = 3;
export const SCAN_VAR_HEADER = 4;
export const SCAN_TOPIC_OFFSET = 5;
export const SCAN_TOPIC_LENGTH = 6;
export const SCAN_PACKET_ID = 7;
export const SCAN_PROPS_OFFSET = 8;
export const SCAN_PROPS_LENGTH = 9;

/** How many packet records fit in `out`. */
export function scanCapacity(out: Uint32Array): number {
  const n = out.length - SCAN_HEADER;
  return n > 0 ? Math.floor(n / SCAN_STRIDE) : 0;
}

/** Index in `out` of the first slot of packet record `index`. */
export function scanRecord(index: number): number {
  return SCAN_HEADER + index * SCAN_STRIDE;
}

/** Scans buf[start, end) for complete MQTT packets, writing the results into `out` (see above). */
export function scanFrames(
  // Buffer listed apart: @types/node 20.9's Buffer is not assignable to TS 7's Uint8Array.
  buf: Buffer | Uint8Array,
  start: number,
  end: number,
  maxPacketSize: number,
  v5: boolean,
  out: Uint32Array,
): void {
  const capacity = out.length < SCAN_HEADER ? 0 : ((out.length - SCAN_HEADER) / SCAN_STRIDE) | 0;
  let count = 0;
  let pos = start;
  let error = SCAN_OK;
  let detail = 0;

  while (pos < end) {
    if (count === capacity) break;
    const first = buf[pos];
    // Remaining length: up to 4 bytes, 7 bits each, little-endian groups [MQTT-1.5.5].
    let p = pos + 1;
    let remaining = 0;
    let mult = 1;
    let lenBytes = 0;
    let complete = false;
    while (p < end) {
      const b = buf[p++];
      remaining += (b & 0x7f) * mult;
      lenBytes++;
      if ((b & 0x80) === 0) {
        complete = true;
        break;
      }
      if (lenBytes === 4) break;
      mult *= 128;
    }
    if (!complete) {
      if (lenBytes === 4) {
        error = SCAN_ERR_LENGTH;
        detail = pos;
      }
      break;
    }
    const total = 1 + lenBytes + remaining;
    if (total > maxPacketSize) {
      error = SCAN_ERR_TOO_LARGE;
      detail = total;
      break;
    }
    const packetEnd = pos + total;
    if (packetEnd > end) break;

    const type = first >>> 4;
    const flags = first & 0x0f;
    const varHeader = p;
    let topicOffset = 0;
    let topicLength = 0;
    let packetId = 0;
    let propsOffset = 0;
    let propsLength = 0;
    if (type === 3) {
      if (varHeader + 2 > packetEnd) {
        error = SCAN_ERR_PUBLISH;
        detail = pos;
        break;
      }
      topicLength = (buf[varHeader] << 8) | buf[varHeader + 1];
      topicOffset = varHeader + 2;
      let q = topicOffset + topicLength;
      if (q > packetEnd) {
        error = SCAN_ERR_PUBLISH;
        detail = pos;
        break;
      }
      if ((flags & 0x06) !== 0) {
        if (q + 2 > packetEnd) {
          error = SCAN_ERR_PUBLISH;
          detail = pos;
          break;
        }
        packetId = (buf[q] << 8) | buf[q + 1];
        q += 2;
      }
      if (v5) {
        let plen = 0;
        let pmult = 1;
        let pbytes = 0;
        let pdone = false;
        while (q < packetEnd && pbytes < 4) {
          const b = buf[q++];
          plen += (b & 0x7f) * pmult;
          pbytes++;
          if ((b & 0x80) === 0) {
            pdone = true;
            break;
          }
          pmult *= 128;
        }
        if (!pdone || q + plen > packetEnd) {
          error = SCAN_ERR_PUBLISH;
          detail = pos;
          break;
        }
        propsOffset = q;
        propsLength = plen;
      }
    }

    const r = SCAN_HEADER + count * SCAN_STRIDE;
    out[r] = type;
    out[r + 1] = flags;
    out[r + 2] = pos;
    out[r + 3] = total;
    out[r + 4] = varHeader;
    out[r + 5] = topicOffset;
    out[r + 6] = topicLength;
    out[r + 7] = packetId;
    out[r + 8] = propsOffset;
    out[r + 9] = propsLength;
    count++;
    pos = packetEnd;
  }

  out[0] = count;
  out[1] = pos;
  out[2] = error;
  out[3] = detail;
}
