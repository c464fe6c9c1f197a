/**
 * A forward rule's MQTT topic filter, split into levels once so that matching a topic allocates
 * nothing (the hook runs for every accepted message).
 */
import { validateTopicFilter } from '../core/topic.js';

export class ForwardFilter {
  readonly source: string;
  private readonly levels: string[];
  private readonly multi: boolean;
  private readonly rootWildcard: boolean;

  /** Throws an Error naming what is wrong with `filter`. */
  constructor(filter: string) {
    const problem = validateTopicFilter(filter);
    if (problem !== null) throw new Error(`"${filter}" is not a topic filter: ${problem}`);
    if (filter.startsWith('$share/') || filter.startsWith('$queue/')) throw new Error(`"${filter}": a forward rule sees every message; a shared filter means nothing here`);
    this.source = filter;
    const levels = filter.split('/');
    this.multi = levels[levels.length - 1] === '#';
    if (this.multi) levels.pop();
    this.levels = levels;
    this.rootWildcard = filter[0] === '+' || filter[0] === '#';
  }

  /** Does the filter match the topic name? (`a/#` matches `a`; wildcards at the root skip `$` topics.) */
  matches(topic: string): boolean {
    if (this.rootWildcard && topic.charCodeAt(0) === 0x24) return false;
    const levels = this.levels;
    let start = 0;
    for (let i = 0; i < levels.length; i++) {
      if (start > topic.length) return false;
      let end = topic.indexOf('/', start);
      if (end === -1) end = topic.length;
      const level = levels[i]!;
      if (level !== '+' && (end - start !== level.length || !topic.startsWith(level, start))) return false;
      start = end + 1;
    }
    // start === topic.length + 1: every level consumed; otherwise levels remain.
    return this.multi || start === topic.length + 1;
  }
}
