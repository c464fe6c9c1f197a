/**
 * What the synchronous retained path costs per message, in-process and without a socket: the
 * basis of --retained-bulk-threshold (a search below it runs in one turn, so its size times this
 * cost is the longest the event loop can stall on one SUBSCRIBE). The owner encodes each PUBLISH
 * with the connection's OutboundEncoder, as MqttConnection does, and keeps the bytes.
 */
import { Broker } from '../../src/core/broker.js';
import { Message, type QoS } from '../../src/core/message.js';
import { Delivered, type Delivery, type SessionOwner } from '../../src/core/session.js';
import { TopicTrie } from '../../src/core/topic-trie.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { Logger } from '../../src/log/logger.js';
import { OutboundEncoder } from '../../src/protocols/mqtt/outbound.js';
import { numberList, parseToolArgs } from '../lib/tool-cli.js';
import { microSpec } from './registry.js';

const SPEC = microSpec('retained-sync-cost', [
  { group: 'Flags', name: 'sizes', key: 'sizes', kind: 'string', default: '1000,5000,20000,100000', valueName: 'LIST', help: 'comma-separated retained set sizes, one JSON line each' },
]);

const sizes = numberList(SPEC, 'sizes', parseToolArgs<{ sizes: string }>(SPEC).values.sizes);

class EncodingOwner implements SessionOwner {
  readonly sendWindow = 65535;
  readonly version = 4 as const;
  readonly clientMaxPacketSize = 0;
  readonly encoder = new OutboundEncoder(this);
  bytes = 0;
  deliver(d: Delivery): Delivered {
    const packet = this.encoder.publish(d.msg, d.qos, d.retain, d.id, d.redelivered, d.subscriptionIds);
    if (packet === null) return Delivered.TooLarge;
    this.bytes += packet.length;
    return Delivered.Written;
  }
  kick(): void {}
}

for (const size of sizes) {
  const broker = new Broker(
    { maxInflight: 64, maxQueuedMessages: 1000, maxQueuedBytes: 0, maxSessionExpiry: 0, maxRetainedMessages: 0 },
    new MemoryStore(),
    new TopicTrie(),
    new Logger({ level: 'silent' }),
  );
  await broker.start();
  for (let i = 0; i < size; i++) broker.publish(new Message(`fleet/r${i % 8}/v${i}/status`, Buffer.from(`p${i}`), 0, true, null, 0, null));
  const times: number[] = [];
  for (let round = 0; round < 7; round++) {
    const owner = new EncodingOwner();
    const { session } = broker.connect(`c${round}`, 'mqtt/4', true, 0, owner);
    const sub = { filter: '#', qos: 0 as QoS, noLocal: false, retainAsPublished: false, retainHandling: 0 as const, subscriptionId: 0 };
    broker.subscribe(session, sub);
    const t0 = performance.now();
    broker.sendRetained(session, sub, false);
    times.push(performance.now() - t0);
    if (owner.bytes === 0) throw new Error('nothing delivered');
  }
  const cold = times[0]!;
  const warm = times.slice(1).sort((a, b) => a - b)[3]!;
  console.log(
    JSON.stringify({ retained: size, coldMs: +cold.toFixed(2), warmMedianMs: +warm.toFixed(2), coldUsPerMsg: +((cold * 1000) / size).toFixed(2), warmUsPerMsg: +((warm * 1000) / size).toFixed(2) }),
  );
  await broker.stop();
}
