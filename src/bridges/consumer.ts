/**
 * The incoming half of a bridge: records consumed from the backend become MQTT publishes on
 * the rule's topic template, through an admitted Client with the bridge's own identity (its
 * `username` in the ACL and grants), so they meet the same checks as any client's and reach
 * every protocol's subscribers, device downlinks included. A batch is acknowledged to the
 * backend only after Junction accepted every record of it, and after the store commit when a
 * record was stored (retained, or queued for a persistent session). A record Junction refuses
 * (not authorized, not a topic, a bad envelope) is counted, logged, sent to the rule's
 * dead-letter target if it has one, and acknowledged: never retried forever.
 */
import { Message } from '../core/message.js';
import type { Delivery } from '../core/session.js';
import { Delivered } from '../core/session.js';
import { validateTopicName } from '../core/topic.js';
import type { Client, ClientOwner } from '../gateway/client.js';
import { Refusal } from '../gateway/refusal.js';
import type { Logger, LogRateLimit } from '../log/logger.js';
import type { BridgeBackend, InRecord, OutRecord } from './backend.js';
import type { BridgeConfig, ConsumeRule } from './config.js';
import { decodeEnvelope, userPropertiesOf } from './envelope.js';
import { ConsumeStats } from './stats.js';

/** What the consumer needs from the gateway. */
export interface ConsumerGateway {
  /** An admitted client for the bridge (gateway/context.ts admitInternal). */
  admit(owner: BridgeOwner): Client;
  /** Resolves once every store write issued so far is durable; rejects (StoreFullError) when one could not be. */
  committed(): Promise<void>;
}

/**
 * The bridge's side of its Client: never attached to a session (it only publishes), paused by
 * the publish pace like a socket would be.
 */
export class BridgeOwner implements ClientOwner {
  readonly sendWindow = 0;
  /** Counted by the Client like a connection's (the admin API reads connections' only). */
  messagesIn = 0;
  readonly downlinkTopic = null;
  paused = false;
  private waiters: Array<() => void> = [];

  deliver(_delivery: Delivery): Delivered {
    return Delivered.Refused;
  }

  kick(): void {}

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when the pace lets the bridge publish again. */
  ready(): Promise<void> {
    return this.paused ? new Promise((resolve) => this.waiters.push(resolve)) : Promise.resolve();
  }
}

export class Consumer {
  readonly stats: ConsumeStats[];
  private readonly owner = new BridgeOwner();
  private client: Client | null = null;
  private started = 0;

  constructor(
    private readonly config: BridgeConfig,
    private readonly backend: BridgeBackend,
    private readonly gateway: ConsumerGateway,
    private readonly log: Logger,
    private readonly logLimit: LogRateLimit,
  ) {
    this.stats = config.consume.map((r) => new ConsumeStats(`${r.from} -> ${r.to.source}`));
  }

  /** Starts every consume rule on the (connected) backend. */
  async start(): Promise<void> {
    this.client ??= this.gateway.admit(this.owner);
    const rules = this.config.consume;
    // After a failure, the rules already running are not started twice.
    while (this.started < rules.length) {
      const i = this.started;
      const rule = rules[i]!;
      await this.backend.consume(rule, i, (records) => this.accept(rule, i, records));
      this.started++;
    }
  }

  /** Publishes a consumed batch; settles once every record is accepted (and durable when stored). */
  private async accept(rule: ConsumeRule, index: number, records: readonly InRecord[]): Promise<void> {
    const client = this.client!;
    const stats = this.stats[index]!;
    let stored = false;
    let dead: OutRecord[] | null = null;
    for (const record of records) {
      let refusal: string | null = null;
      let msg: Message | null = null;
      const topic = rule.to.consume(record);
      const bad = validateTopicName(topic);
      if (bad !== null) refusal = `"${topic}" is not a topic name: ${bad}`;
      else {
        try {
          const unwrapped = rule.payload === 'json' ? decodeEnvelope(record.value) : null;
          const users = userPropertiesOf(record.headers);
          let properties = unwrapped === null ? null : unwrapped.properties;
          if (users !== undefined) properties = { ...properties, userProperties: [...(properties?.userProperties ?? []), ...users] };
          msg = new Message(topic, unwrapped === null ? record.value : unwrapped.payload, rule.qos, rule.retain, properties, 0, this.config.clientId);
        } catch (err) {
          refusal = (err as Error).message;
        }
      }
      if (msg !== null) {
        for (;;) {
          if (this.owner.paused) await this.owner.ready();
          const outcome = client.publish(msg);
          if (outcome.refusal === Refusal.QuotaExceeded) {
            // The pace ran out for good this time: wait for it and publish the same record again.
            await new Promise((resolve) => setTimeout(resolve, 100));
            continue;
          }
          if (outcome.refusal !== Refusal.None) refusal = `${outcome.refusal === Refusal.NotAuthorized ? 'not authorized' : 'topic invalid'}: ${client.refusalDetail || topic}`;
          else if (outcome.stored) stored = true;
          break;
        }
      }
      if (refusal === null) {
        stats.consumed++;
        continue;
      }
      stats.failed++;
      if (this.logLimit.allow(`bridge-refused:${this.config.name}`)) {
        this.log.warn('bridge record refused by Junction', {
          bridge: this.config.name,
          rule: stats.rule,
          topic,
          reason: refusal,
          ...(rule.deadLetter === null ? {} : { deadLetter: rule.deadLetter }),
        });
      }
      if (rule.deadLetter !== null) {
        const headers: Array<[string, string]> = [...record.headers, ['junction-error', refusal], ['junction-source', record.topic]];
        (dead ??= []).push({ to: rule.deadLetter, key: record.key === '' ? null : record.key, value: record.value, headers, at: Date.now(), rule: index });
      }
    }
    if (dead !== null) {
      try {
        await this.backend.send(dead);
        stats.deadLettered += dead.length;
      } catch (err) {
        this.log.warn('bridge dead-letter target refused records; dropped', { bridge: this.config.name, rule: stats.rule, to: rule.deadLetter, count: dead.length, error: (err as Error).message });
      }
    }
    if (stored) await this.gateway.committed();
  }
}
