/**
 * The protocol gateways the server starts besides MQTT over TCP. Each one adds itself here
 * (one import, one entry); a gateway whose port flag is 0/off opens nothing.
 */
import type { Gateway } from './context.js';
import { stompGateway } from '../protocols/stomp/gateway.js';
import { gbt32960Gateway } from '../protocols/gbt32960/gateway.js';
import { jt808Gateway } from '../protocols/jt808/gateway.js';

export const GATEWAYS: readonly Gateway[] = [stompGateway, gbt32960Gateway, jt808Gateway];
