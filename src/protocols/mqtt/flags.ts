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
}

/** Rows for --help, parsing and the config file. */
export const MQTT_FLAGS: readonly FlagDef<keyof MqttOptions>[] = [
  { name: 'mqtt-port', key: 'mqttPort', kind: 'int', group: 'Network', default: 1883, min: 0, max: 65535, valueName: 'PORT', help: 'MQTT over TCP port; 0 = any free port' },
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
  { name: 'max-packet-size', key: 'maxPacketSize', kind: 'size', group: 'Limits', default: 1_048_576, min: 64, max: 268_435_455, help: 'largest packet accepted, in bytes or as 512KiB, 1MiB' },
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
