/** MQTT's front end: the TCP listener on --mqtt-port, TLS on --mqtts-port and the --ws-path WebSocket route. */
import type { Gateway, Listener, ServerContext } from '../../server/context.js';
import { PORT_OFF } from '../../config/flags.js';
import { ConfigError } from '../../errors.js';
import { listenTcp, type BoundServer } from '../../transports/tcp.js';
import { listenTls } from '../../transports/tls.js';
import { mqttAcceptor } from './listener.js';
import type { MqttContext } from './context.js';

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
    scan: ctx.scan,
    log: ctx.log,
    logLimit: ctx.logLimit,
    connections: 0,
  };
}

/** Describes a bound node:net server as a Listener. */
export function netListener(protocol: string, transport: Listener['transport'], host: string, server: BoundServer): Listener {
  return { protocol, transport, host, port: server.port, close: () => server.close() };
}

export const mqttGateway: Gateway = {
  name: 'mqtt',
  async start(ctx: ServerContext): Promise<Listener[]> {
    const o = ctx.options;
    const mqtt = mqttContext(ctx);
    const accept = mqttAcceptor(mqtt, o.maxConnections);
    // uWS reads * and : in a path as a pattern; ? would never match a request path.
    if (!/^\/[^*:?#\s]*$/.test(o.wsPath)) throw new ConfigError(`--ws-path must be a URL path such as /mqtt: starting with /, without *, :, ?, # or spaces (got "${o.wsPath}")`);
    ctx.wsRoutes.add({ path: o.wsPath, subprotocols: ['mqtt', 'mqttv3.1'], accept });
    const listeners: Listener[] = [];
    const tcp = await listenTcp({ host: o.host, port: o.mqttPort, maxConnections: o.maxConnections, pacing: ctx.pacing }, accept);
    listeners.push(netListener('mqtt', 'tcp', o.host, tcp));
    if (o.mqttsPort !== PORT_OFF) {
      if (ctx.tls === null) throw new ConfigError('--mqtts-port needs --tls-cert and --tls-key');
      const options = { host: o.host, port: o.mqttsPort, maxConnections: o.maxConnections, pacing: ctx.pacing };
      try {
        listeners.push(netListener('mqtt', 'tls', o.host, await listenTls(options, ctx.tls, accept)));
      } catch (err) {
        for (const l of listeners) l.close();
        throw new ConfigError(`--mqtts-port: cannot listen on ${o.host}:${o.mqttsPort} (${(err as Error).message})`);
      }
    }
    return listeners;
  },
};
