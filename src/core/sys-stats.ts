/**
 * Broker statistics published as JSON to $SYS/brokers/{node}/stats every --sys-interval
 * seconds, including the counters of what was dropped and why. A wheel item, not a timer; nothing is built while no
 * subscription could receive it.
 */
import { Message } from './message.js';
import type { Broker } from './broker.js';
import type { WheelItem, WheelLink } from './timer-wheel.js';

export class SysStats implements WheelItem {
  wheelPrev: WheelLink | null = null;
  wheelNext: WheelLink | null = null;
  wheelDeadline = 0;
  private readonly topic: string;

  constructor(
    private readonly broker: Broker,
    nodeName: string,
    private readonly intervalMs: number,
  ) {
    this.topic = `$SYS/brokers/${nodeName}/stats`;
  }

  /** Starts publishing (interval 0 = never). */
  start(): void {
    if (this.intervalMs > 0) this.broker.wheel.schedule(this, this.broker.wheel.now + this.intervalMs);
  }

  onTimer(now: number): number {
    if (this.broker.hasDollarSubscriptions) this.publish(now);
    return now + this.intervalMs;
  }

  /** Publishes the current figures once. */
  publish(now: number): void {
    const body = { time: new Date(now).toISOString(), online: this.broker.onlineCount, ...brokerFigures(this.broker) };
    this.broker.publish(new Message(this.topic, Buffer.from(JSON.stringify(body)), 0, false, null, 0, null));
  }
}

/** The broker's figures as $SYS stats and the admin API show them: counts, messages, drops by cause, connects, memory. */
export function brokerFigures(broker: Broker): Record<string, unknown> {
  const m = broker.metrics;
  const mem = process.memoryUsage();
  return {
    sessions: broker.sessions.size,
    subscriptions: broker.subscriptionCount,
    retained: broker.retainedCount,
    messages: { received: m.messagesReceived, sent: m.messagesSent, dropped: m.messagesDropped },
    dropped: {
      queueFull: m.queueOverflowDrops,
      slowConsumer: m.slowConsumerDrops,
      expired: m.expiredDrops,
      tooLarge: m.oversizeDrops,
      refused: m.refusedDrops,
      unanswered: m.unansweredDrops,
      retainedRefused: m.retainedRefused,
    },
    connects: { opened: m.connectionsOpened, closed: m.connectionsClosed, refused: m.connectionsRefused, protocolErrors: m.protocolErrors },
    memory: { rss: mem.rss, heapUsed: mem.heapUsed },
  };
}
