/**
 * Turns options into clients: which publishers, subscribers and idle connections a scenario
 * has, their topics and filters, and which worker process runs each. The coordinator and every
 * worker compute the same plan from the same options, so no client list crosses the IPC channel.
 */

import type { BenchOptions, Scenario } from './options.js';

/** What one generator client does. */
export type ClientRole = 'pub' | 'sub' | 'idle' | 'seed';

/** One client of the run. */
export interface ClientSpec {
  readonly role: ClientRole;
  /** Index among the clients of its role, over all processes. */
  readonly index: number;
  readonly clientId: string;
  /** Where a publisher publishes ('' for others). */
  readonly topic: string;
  /** What a subscriber (or an idle connection with --subscribe) subscribes to ('' for none). */
  readonly filter: string;
}

/** The sizes of a scenario after defaults. */
export interface PlanCounts {
  readonly publishers: number;
  readonly subscribers: number;
  readonly idle: number;
  /** Deliveries expected per published message (fanin/fanout: subscribers; p2p, shared: 1). */
  readonly fanout: number;
  /** One line for the summary: "50 publishers -> 1 subscriber". */
  readonly shape: string;
}

const first = (...values: number[]): number => values.find((v) => v > 0) ?? 0;
const plural = (n: number, word: string): string => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** The client counts of `o.scenario`, with per-scenario defaults for counts left at 0. */
export function planCounts(o: BenchOptions): PlanCounts {
  switch (o.scenario) {
    case 'fanin': {
      const p = first(o.publishers, o.clients, 50);
      const s = first(o.subscribers, 1);
      return { publishers: p, subscribers: s, idle: 0, fanout: s, shape: `${plural(p, 'publisher')} -> ${plural(s, 'subscriber')} (wildcard)` };
    }
    case 'fanout': {
      const p = first(o.publishers, 1);
      const s = first(o.subscribers, o.clients, 100);
      return { publishers: p, subscribers: s, idle: 0, fanout: s, shape: `${plural(p, 'publisher')} -> ${plural(s, 'subscriber')}` };
    }
    case 'p2p': {
      const n = first(o.pairs, o.clients, 100);
      return { publishers: n, subscribers: n, idle: 0, fanout: 1, shape: `${plural(n, 'pair')}` };
    }
    case 'shared': {
      const p = first(o.publishers, o.clients, 10);
      const s = first(o.subscribers, 10);
      return { publishers: p, subscribers: s, idle: 0, fanout: 1, shape: `${plural(p, 'publisher')} -> $share group of ${plural(s, 'subscriber')}` };
    }
    case 'conn': {
      const c = first(o.connections, o.clients, 1000);
      return {
        publishers: 0,
        subscribers: 0,
        idle: c,
        fanout: 0,
        shape: `${plural(c, 'idle connection')}${o.subscribeTopic !== undefined ? ` subscribed to ${o.subscribeTopic}` : o.subscribe ? ' with a subscription each' : ''}`,
      };
    }
    case 'retained': {
      const s = first(o.subscribers, o.clients, 1);
      return { publishers: 0, subscribers: s, idle: 0, fanout: 0, shape: `${plural(s, 'subscriber')} x ${plural(o.retainedMessages, 'retained message')}` };
    }
  }
}

/** The topic prefix of one run, so runs against the same broker never see each other's traffic. */
function runPrefix(runId: string, scenario: Scenario): string {
  return `bench/${runId}/${scenario}`;
}

/** The clients process `proc` of `procs` runs, in the order they connect (subscribers first). */
export function planClients(o: BenchOptions, runId: string, proc: number, procs: number): ClientSpec[] {
  const counts = planCounts(o);
  const prefix = runPrefix(runId, o.scenario);
  const specs: ClientSpec[] = [];
  const add = (role: ClientRole, index: number, topic: string, filter: string): void => {
    specs.push({ role, index, clientId: `jb-${runId}-${role}${index}`, topic, filter });
  };
  // Round robin per role, shifted for publishers so a fan-in's lone subscriber does not share
  // its process with the first publisher when there is more than one process.
  for (let i = proc; i < counts.subscribers; i += procs) {
    switch (o.scenario) {
      case 'fanin':
        add('sub', i, '', `${prefix}/#`);
        break;
      case 'fanout':
        add('sub', i, '', prefix);
        break;
      case 'p2p':
        add('sub', i, '', `${prefix}/${i}`);
        break;
      case 'shared':
        add('sub', i, '', `$share/g${runId}/${prefix}/#`);
        break;
      case 'retained':
        add('sub', i, '', `${prefix}/#`);
        break;
      case 'conn':
        break;
    }
  }
  for (let i = (proc + procs - 1) % procs; i < counts.publishers; i += procs) {
    add('pub', i, o.scenario === 'fanout' ? prefix : `${prefix}/${i}`, '');
  }
  for (let i = proc; i < counts.idle; i += procs) add('idle', i, '', o.subscribeTopic ?? (o.subscribe ? `${prefix}/${i}` : ''));
  if (o.scenario === 'retained' && proc === 0) add('seed', 0, prefix, '');
  return specs;
}
