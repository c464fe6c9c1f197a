/**
 * The protocols a server runs, in start order: the one place that assembles them (their flags
 * are assembled in options.ts). Adding a protocol is one import and one entry here, and its
 * flags' one entry there; a protocol whose ports are off opens nothing.
 */
import type { Protocol } from '../gateway/protocol.js';
import { mqttProtocol } from '../protocols/mqtt/protocol.js';
import { stompProtocol } from '../protocols/stomp/protocol.js';
import { gbt32960Protocol } from '../protocols/gbt32960/protocol.js';
import { jt808Protocol } from '../protocols/jt808/protocol.js';
import type { StartOptions } from './options.js';

export const PROTOCOLS: ReadonlyArray<Protocol<StartOptions>> = [mqttProtocol, stompProtocol, gbt32960Protocol, jt808Protocol];
