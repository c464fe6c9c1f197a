/** A started broker for core unit tests: a memory store unless one is given, a silent log, and a stopped timer wheel (tests drive time by hand). */
import { Broker, type BrokerLimits } from '../../src/core/broker.js';
import { TopicTrie } from '../../src/core/topic-trie.js';
import { Logger } from '../../src/log/logger.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { Store } from '../../src/store/types.js';

/** Starts a Broker with `limits` and stops its wheel. */
export async function startedBroker(limits: BrokerLimits, store: Store = new MemoryStore()): Promise<Broker> {
  const broker = new Broker(limits, store, new TopicTrie(), new Logger({ level: 'silent' }));
  await broker.start();
  broker.wheel.stop();
  return broker;
}
