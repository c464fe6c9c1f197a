/** Flags of MQTT: its listeners and the limits CONNACK announces to MQTT 5 clients. */
import type { FlagDef } from '../../config/flags.js';

export interface MqttOptions {
  /** MQTT over TCP; -1 (PORT_OFF) = no listener */
  mqttPort: number;
  /** MQTT over TLS; -1 = no listener */
  mqttsPort: number;
  /** URL path of MQTT over WebSocket */
  wsPath: string;
  maxPacketSize: number;
  /** Receive Maximum we announce: inbound QoS 1/2 unacknowledged at once */
  receiveMaximum: number;
  topicAliasMaximum: number;
  maxKeepalive: number;
  /** Highest QoS a client may publish at (MQTT 5 Maximum QoS); subscriptions are granted at most this */
  maximumQos: 0 | 1 | 2;
}

/**
 * The smallest --max-packet-size: the smallest CONNECT of every version must fit, MQTT 3.1's
 * with its required one-character client id being the largest of them (2 + 8 + 4 + 3 bytes).
 */
export const MIN_MAX_PACKET_SIZE = 17;

/** Rows for --help, parsing and the config file. */
export const MQTT_FLAGS: readonly FlagDef<keyof MqttOptions>[] = [
  {
    name: 'mqtt-port',
    key: 'mqttPort',
    kind: 'port',
    group: 'Network',
    default: 1883,
    help: 'MQTT over TCP port; 0 = any free port; off = no plaintext MQTT (a TLS-only broker with --mqtts-port)',
  },
  { name: 'mqtts-port', key: 'mqttsPort', kind: 'port', group: 'WebSocket and TLS', default: -1, help: 'MQTT over TLS; needs --tls-cert and --tls-key (standard port 8883)' },
  { name: 'ws-path', key: 'wsPath', kind: 'string', group: 'WebSocket and TLS', default: '/mqtt', valueName: 'PATH', help: 'URL path of MQTT over WebSocket (subprotocols mqtt and mqttv3.1)' },
  {
    name: 'max-keepalive',
    key: 'maxKeepalive',
    kind: 'int',
    group: 'Network',
    default: 65535,
    min: 1,
    max: 65535,
    valueName: 'SECONDS',
    help: 'highest keep-alive granted; longer requests are lowered (MQTT 5 Server Keep Alive)',
  },
  {
    name: 'max-packet-size',
    key: 'maxPacketSize',
    kind: 'size',
    group: 'Limits',
    default: 1_048_576,
    min: MIN_MAX_PACKET_SIZE,
    max: 268_435_455,
    help: 'largest packet accepted, in bytes or as 512KiB, 1MiB (announced to MQTT 5 clients; the floor is what a CONNECT needs)',
  },
  {
    name: 'maximum-qos',
    key: 'maximumQos',
    kind: 'int',
    group: 'Limits',
    default: 2,
    min: 0,
    max: 2,
    valueName: '0|1|2',
    help: 'highest QoS an MQTT client may publish at (announced to MQTT 5 clients as Maximum QoS; a higher PUBLISH or will is refused, 5.0 with 0x9B); subscriptions are granted at most this',
  },
  {
    name: 'receive-maximum',
    key: 'receiveMaximum',
    kind: 'int',
    group: 'Limits',
    default: 64,
    min: 1,
    max: 65535,
    help: 'inbound QoS 1/2 messages a client may have unacknowledged (announced to MQTT 5 clients)',
  },
  { name: 'topic-alias-maximum', key: 'topicAliasMaximum', kind: 'int', group: 'Limits', default: 64, min: 0, max: 65535, help: 'topic aliases a client may use; 0 = none' },
];
