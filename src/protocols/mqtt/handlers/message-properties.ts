/** MQTT 5 application properties <-> the core's message properties (passed through unchanged). */
import type { MessageProperties } from '../../../core/message.js';
import type { ApplicationProperties } from '../codec/packets.js';

/** The end-to-end properties of a PUBLISH or will, or null when there are none. */
export function applicationProperties(p: ApplicationProperties): MessageProperties | null {
  if (p.payloadFormatIndicator === undefined && p.contentType === undefined && p.responseTopic === undefined && p.correlationData === undefined && p.userProperties === undefined) {
    return null;
  }
  const out: MessageProperties = {};
  if (p.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = p.payloadFormatIndicator;
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic;
  // Copy: the bytes are a view into the socket chunk.
  if (p.correlationData !== undefined) out.correlationData = Buffer.from(p.correlationData);
  if (p.userProperties !== undefined) out.userProperties = p.userProperties;
  return out;
}
