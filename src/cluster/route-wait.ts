/**
 * The SUBACK of a persistent session's new QoS 1/2 subscription waits until every live node
 * knows the subscription's durable route (durable-routes.ts confirm()), so that whatever any node
 * publishes after it is journaled; --cluster-route-wait bounds the wait. The journal feed calls
 * hold() when the subscription is added (inside the SUBSCRIBE's turn) and written() once the
 * route is in the stream.
 */
import type { Broker } from '../core/broker.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { DurableRoutes } from './durable-routes.js';
import type { FeedConsumer } from './session-feed.js';

export class RouteWait {
  constructor(
    private readonly broker: Broker,
    private readonly routes: DurableRoutes,
    /** the other nodes heard from lately: the ones a new route waits for */
    private readonly liveNodes: () => readonly string[],
    private readonly waitMs: number,
    private readonly log: Logger,
    private readonly logLimit: LogRateLimit,
  ) {}

  /** Makes the SUBACK of the subscription `c` serves wait for its route (or waitMs). */
  hold(c: FeedConsumer): void {
    if (this.waitMs <= 0) return;
    this.broker.holdSubscribe(
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => settle(), this.waitMs);
        const settle = (): void => {
          clearTimeout(timer);
          c.routed = null;
          resolve();
        };
        c.routed = settle;
      }),
    );
  }

  /** The route of `c` is in the stream at `seq` (or was there already: seq 0): its SUBACK goes once every live node read it. */
  written(c: FeedConsumer, seq: number): void {
    const settle = c.routed;
    if (settle === null) return;
    if (seq === 0) {
      settle();
      return;
    }
    void this.routes.confirm(seq, this.liveNodes, this.waitMs).then((everywhere) => {
      if (!everywhere && this.logLimit.allow('cluster-route-wait'))
        this.log.warn('a durable route was not confirmed by every node within --cluster-route-wait: the SUBACK went anyway', { filter: c.filter, waitMs: this.waitMs });
      settle();
    });
  }
}
