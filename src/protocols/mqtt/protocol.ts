/**
 * The MQTT protocol: TCP on --mqtt-port, TLS on --mqtts-port, and the --ws-path WebSocket route
 * (subprotocols mqtt and mqttv3.1) served by the WebSocket listeners.
 */
import { ConfigError } from '../../errors.js';
import type { Protocol } from '../../gateway/protocol.js';
import { scannerFor, type ScanFrames } from '../../native/scanner.js';
import { MqttConnection } from './connection.js';
import type { MqttOptions } from './flags.js';

/** WebSocket subprotocols of MQTT, preferred first. */
const MQTT_SUBPROTOCOLS: readonly string[] = ['mqtt', 'mqttv3.1'];

/** What every MQTT connection of a server shares. */
export interface MqttConfig {
  readonly maxPacketSize: number;
  /** Receive Maximum we announce: inbound QoS 1/2 unacknowledged at once */
  readonly receiveMaximum: number;
  readonly topicAliasMaximum: number;
  readonly maxKeepalive: number;
  /** --maximum-qos: the highest QoS a client may publish at, and the highest granted */
  readonly maximumQos: 0 | 1 | 2;
  /** ms a new connection has to send CONNECT */
  readonly connectTimeoutMs: number;
  /** The frame scanner (native or the TypeScript twin; identical results). */
  readonly scan: ScanFrames;
}

export const mqttProtocol: Protocol<MqttOptions> = {
  name: 'mqtt',
  async start(kit, o) {
    // uWS reads * and : in a path as a pattern; ? would never match a request path.
    if (!/^\/[^*:?#\s]*$/.test(o.wsPath)) throw new ConfigError(`--ws-path must be a URL path such as /mqtt: starting with /, without *, :, ?, # or spaces (got "${o.wsPath}")`);
    const config: MqttConfig = {
      maxPacketSize: o.maxPacketSize,
      receiveMaximum: o.receiveMaximum,
      topicAliasMaximum: o.topicAliasMaximum,
      maxKeepalive: o.maxKeepalive,
      maximumQos: o.maximumQos,
      connectTimeoutMs: kit.connectTimeoutMs,
      scan: scannerFor(kit.native),
    };
    const accept = kit.acceptor('mqtt', (link) => new MqttConnection(link, kit, config));
    // MQTT travels in binary frames only: a text frame closes the connection [MQTT-6.0.0-1].
    kit.addWebSocketRoute(o.wsPath, MQTT_SUBPROTOCOLS, accept, true);
    return kit.listenAll(
      [
        { protocol: 'mqtt', transport: 'tcp', flag: '--mqtt-port', port: o.mqttPort },
        { protocol: 'mqtt', transport: 'tls', flag: '--mqtts-port', port: o.mqttsPort },
      ],
      accept,
    );
  },
};
