/** MQTT's front end: the TCP listener on --mqtt-port (and the /mqtt WebSocket route). */
import type { Gateway, Listener, ServerContext } from '../../server/context.js';
import { listenTcp } from '../../transports/tcp.js';
import { mqttAcceptor } from './listener.js';
import type { MqttContext } from './context.js';
import type { Server } from 'node:net';

/** The MqttContext shared by every MQTT listener of a server. */
export function mqttContext(ctx: ServerContext): MqttContext {
  const o = ctx.options;
  return {
    broker: ctx.broker,
    limits: {
      maxPacketSize: o.maxPacketSize,
      receiveMaximum: o.receiveMaximum,
      topicAliasMaximum: o.topicAliasMaximum,
      maxKeepalive: o.maxKeepalive,
      connectTimeout: o.connectTimeout,
      maxTopicLevels: o.maxTopicLevels,
      maxSocketBuffer: o.maxSocketBuffer,
    },
    security: ctx.security,
    events: ctx.events,
    log: ctx.log,
    logLimit: ctx.logLimit,
    connections: 0,
  };
}

/** Describes a bound node:net server as a Listener. */
export function netListener(protocol: string, transport: Listener['transport'], host: string, server: Server): Listener {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { protocol, transport, host, port, close: () => server.close() };
}

export const mqttGateway: Gateway = {
  name: 'mqtt',
  async start(ctx: ServerContext): Promise<Listener[]> {
    const o = ctx.options;
    const mqtt = mqttContext(ctx);
    const accept = mqttAcceptor(mqtt, o.maxConnections);
    ctx.wsRoutes.add({ path: '/mqtt', subprotocols: ['mqtt', 'mqttv3.1'], accept });
    const listeners: Listener[] = [];
    const tcp = await listenTcp({ host: o.host, port: o.mqttPort, maxConnections: o.maxConnections }, accept);
    listeners.push(netListener('mqtt', 'tcp', o.host, tcp));
    return listeners;
  },
};
