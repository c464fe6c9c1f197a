/** Turns each accepted link into an MQTT connection, within --max-connections. */
import type { LinkAcceptor } from '../../transports/link.js';
import { MqttConnection } from './connection.js';
import type { MqttContext } from './context.js';

/** The acceptor a transport calls for every new link. */
export function mqttAcceptor(ctx: MqttContext, maxConnections: number): LinkAcceptor {
  return (link) => {
    if (ctx.connections >= maxConnections) {
      ctx.broker.metrics.connectionsRefused++;
      if (ctx.logLimit.allow('max-connections')) {
        ctx.log.warn('connection refused: --max-connections reached', { limit: maxConnections, address: link.remoteAddress });
      }
      return null;
    }
    if (ctx.security.policy?.acceptable?.(link) === false) {
      ctx.broker.metrics.connectionsRefused++;
      return null;
    }
    ctx.connections++;
    return new MqttConnection(link, ctx);
  };
}
