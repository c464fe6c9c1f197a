/** The MQTT codec's public surface: frame scanner, decoders, encoders and codec errors. */

export * from './scanner.js';
export { decodePacket, decodeFrame } from './decode.js';
export { decodePublish, decodePublishFromScan } from './decode-publish.js';
export * from './encode.js';
export { TopicNameInvalidError, UnsupportedProtocolVersionError } from './errors.js';
export { isValidMqttString } from './utf8.js';
