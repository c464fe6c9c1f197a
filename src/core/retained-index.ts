/**
 * RetainedIndex: at most one value per topic name, in a tree of topic levels (mosquitto's
 * retain tree, src/retain.c). `search` walks only the branches a filter can reach, so a
 * subscription to `fleet/eu/+/status` never touches `fleet/us`. Emptied branches are pruned on
 * delete (retain__clean_empty_hierarchy). Walks use explicit stacks, not recursion, so a topic
 * of thousands of levels cannot overflow the call stack.
 *
 * Like TopicTrie, a node keeps its single literal child in `one` and needs a Map only from the
 * second child on: a million device topics are mostly single-child chains.
 */
import { addChild, getChild, removeChild } from './level-children.js';

class RetainNode<T> {
  readonly name: string;
  one: RetainNode<T> | null = null;
  map: Map<string, RetainNode<T>> | null = null;
  /** Full topic name while this node holds a value, else null. */
  topic: string | null = null;
  value: T | undefined = undefined;

  constructor(name: string) {
    this.name = name;
  }

  child(level: string): RetainNode<T> | null {
    return getChild(this, level);
  }

  addChild(child: RetainNode<T>): void {
    addChild(this, child);
  }

  removeChild(name: string): void {
    removeChild(this, name);
  }

  /** Pushes every child onto `stack`, skipping `$` names when `skipDollar` [MQTT-4.7.2-1]. */
  pushChildren(stack: RetainNode<T>[], skipDollar: boolean): void {
    if (this.one !== null) {
      if (!skipDollar || this.one.name.charCodeAt(0) !== 0x24) stack.push(this.one);
      return;
    }
    if (this.map === null) return;
    for (const c of this.map.values()) {
      if (!skipDollar || c.name.charCodeAt(0) !== 0x24) stack.push(c);
    }
  }

  isEmpty(): boolean {
    return this.topic === null && this.one === null && this.map === null;
  }
}

/** Retained values by topic name, searchable by topic filter. */
export class RetainedIndex<T> {
  readonly #root = new RetainNode<T>('');
  #size = 0;

  /** Number of topics holding a value. */
  get size(): number {
    return this.#size;
  }

  /** Stores `value` for `topic`, replacing any previous one. */
  set(topic: string, value: T): void {
    let node = this.#root;
    let start = 0;
    for (;;) {
      const slash = topic.indexOf('/', start);
      const level = slash === -1 ? topic.slice(start) : topic.slice(start, slash);
      let next = node.child(level);
      if (next === null) {
        next = new RetainNode<T>(level);
        node.addChild(next);
      }
      node = next;
      if (slash === -1) break;
      start = slash + 1;
    }
    if (node.topic === null) {
      node.topic = topic;
      this.#size++;
    }
    node.value = value;
  }

  /** The value stored for `topic`, or undefined. */
  get(topic: string): T | undefined {
    const node = this.#find(topic, null);
    return node === null ? undefined : node.value;
  }

  /** True when `topic` holds a value (also when that value is undefined). */
  has(topic: string): boolean {
    const node = this.#find(topic, null);
    return node !== null && node.topic !== null;
  }

  /** Removes the value of `topic` and prunes emptied branches; true if there was one. */
  delete(topic: string): boolean {
    const path: RetainNode<T>[] = [this.#root];
    const node = this.#find(topic, path);
    if (node === null || node.topic === null) return false;
    node.topic = null;
    node.value = undefined;
    this.#size--;
    for (let i = path.length - 1; i > 0; i--) {
      const child = path[i];
      if (!child.isEmpty()) break;
      path[i - 1].removeChild(child.name);
    }
    return true;
  }

  /** Removes every topic. */
  clear(): void {
    this.#root.one = null;
    this.#root.map = null;
    this.#size = 0;
  }

  /**
   * Calls `visit` for exactly the stored topics the valid, non-shared `filter` matches (`+`,
   * `#` including its parent level, and the `$` rule). `visit` must not mutate this index.
   */
  search(filter: string, visit: (topic: string, value: T) => void): void {
    const f = filter.split('/');
    const last = f.length - 1;
    const nodes: RetainNode<T>[] = [this.#root];
    const depths: number[] = [0];
    const subtree: RetainNode<T>[] = [];
    while (nodes.length > 0) {
      const node = nodes.pop() as RetainNode<T>;
      const depth = depths.pop() as number;
      if (depth > last) {
        if (node.topic !== null) visit(node.topic, node.value as T);
        continue;
      }
      const level = f[depth];
      if (level === '#') {
        // `#` matches the parent level too: `a/#` matches `a` [MQTT-4.7.1-1]. The root holds
        // no value (every topic has at least one level), so depth 0 adds nothing here.
        if (node.topic !== null) visit(node.topic, node.value as T);
        node.pushChildren(subtree, depth === 0);
        while (subtree.length > 0) {
          const n = subtree.pop() as RetainNode<T>;
          if (n.topic !== null) visit(n.topic, n.value as T);
          n.pushChildren(subtree, false);
        }
      } else if (level === '+') {
        const before = nodes.length;
        node.pushChildren(nodes, depth === 0);
        for (let i = before; i < nodes.length; i++) depths.push(depth + 1);
      } else {
        const child = node.child(level);
        if (child !== null) {
          nodes.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }

  /** Every (topic, value) pair, depth first. Do not mutate the index while iterating. */
  *entries(): IterableIterator<[string, T]> {
    const stack: RetainNode<T>[] = [];
    this.#root.pushChildren(stack, false);
    while (stack.length > 0) {
      const n = stack.pop() as RetainNode<T>;
      if (n.topic !== null) yield [n.topic, n.value as T];
      n.pushChildren(stack, false);
    }
  }

  /** The node for `topic`, recording the walked path in `path` when given. */
  #find(topic: string, path: RetainNode<T>[] | null): RetainNode<T> | null {
    let node = this.#root;
    let start = 0;
    for (;;) {
      const slash = topic.indexOf('/', start);
      const level = slash === -1 ? topic.slice(start) : topic.slice(start, slash);
      const next = node.child(level);
      if (next === null) return null;
      node = next;
      if (path !== null) path.push(node);
      if (slash === -1) return node;
      start = slash + 1;
    }
  }
}
