/**
 * A node of the TypeScript topic trie (topic-trie.ts): the first subscriber inline and the rest
 * in compact parallel arrays (no object per subscriber), literal children in one field or a Map
 * (level-children.ts), and an id -> position side table only for busy nodes.
 */
import { addChild, getChild, removeChild } from './level-children.js';

/** Subscribers per node past which an id -> position index is kept. */
const INDEX_MIN = 16;
/** id -> pair index of nodes with more than INDEX_MIN subscribers; a side table keeps the node small. */
const indexes = new WeakMap<TrieNode, Map<number, number>>();

/** One level of the trie: literal children, `+`/`#` children and the subscribers ending here. */
export class TrieNode {
  /** Level string; read only when this node is its parent's `one`. */
  readonly name: string;
  one: TrieNode | null = null;
  map: Map<string, TrieNode> | null = null;
  plus: TrieNode | null = null;
  hash: TrieNode | null = null;
  /** Pair 0 lives inline: most nodes hold exactly one subscriber, and an array costs 64 bytes. */
  id0 = 0;
  opt0 = 0;
  /** Pairs 1..count-1 interleaved [id, opt, ...]; null while count <= 1. */
  rest: number[] | null = null;
  /** Number of (id, opt) pairs. */
  count = 0;

  constructor(name: string) {
    this.name = name;
  }

  literal(level: string): TrieNode | null {
    return getChild(this, level);
  }

  addLiteral(child: TrieNode): void {
    addChild(this, child);
  }

  removeLiteral(name: string): void {
    removeChild(this, name);
  }

  isEmpty(): boolean {
    return this.count === 0 && this.one === null && this.map === null && this.plus === null && this.hash === null;
  }

  idAt(i: number): number {
    return i === 0 ? this.id0 : (this.rest as number[])[(i - 1) * 2];
  }

  optAt(i: number): number {
    return i === 0 ? this.opt0 : (this.rest as number[])[(i - 1) * 2 + 1];
  }

  setPair(i: number, id: number, opt: number): void {
    if (i === 0) {
      this.id0 = id;
      this.opt0 = opt;
    } else {
      const rest = this.rest as number[];
      rest[(i - 1) * 2] = id;
      rest[(i - 1) * 2 + 1] = opt;
    }
  }

  /** Pair index of `id`, or -1. */
  find(id: number): number {
    const n = this.count;
    if (n === 0) return -1;
    if (n > INDEX_MIN) return (indexes.get(this) as Map<number, number>).get(id) ?? -1;
    if (this.id0 === id) return 0;
    const rest = this.rest;
    if (rest === null) return -1;
    for (let i = 0; i < n - 1; i++) if (rest[i * 2] === id) return i + 1;
    return -1;
  }

  /** Adds or replaces; true if `id` was new here. */
  put(id: number, opt: number): boolean {
    const at = this.find(id);
    if (at !== -1) {
      this.setPair(at, id, opt);
      return false;
    }
    const n = this.count;
    if (n === 0) {
      this.id0 = id;
      this.opt0 = opt;
    } else if (this.rest === null) {
      this.rest = [id, opt];
    } else {
      let rest = this.rest;
      const j = (n - 1) * 2;
      if (j === rest.length) {
        const grown = new Array<number>(rest.length * 2);
        for (let i = 0; i < rest.length; i++) grown[i] = rest[i];
        rest = this.rest = grown;
      }
      rest[j] = id;
      rest[j + 1] = opt;
    }
    this.count = n + 1;
    if (n + 1 > INDEX_MIN) {
      const index = indexes.get(this);
      if (index !== undefined) {
        index.set(id, n);
      } else {
        const built = new Map<number, number>();
        for (let i = 0; i <= n; i++) built.set(this.idAt(i), i);
        indexes.set(this, built);
      }
    }
    return true;
  }

  /** Removes `id` by moving the last pair into its slot; true if it was here. */
  drop(id: number): boolean {
    const at = this.find(id);
    if (at === -1) return false;
    const last = this.count - 1;
    const index = last >= INDEX_MIN ? indexes.get(this) : undefined;
    if (at !== last) {
      const movedId = this.idAt(last);
      this.setPair(at, movedId, this.optAt(last));
      if (index !== undefined) index.set(movedId, at);
    }
    this.count = last;
    if (index !== undefined) {
      if (last > INDEX_MIN) index.delete(id);
      else indexes.delete(this);
    }
    const rest = this.rest;
    if (last <= 1) {
      this.rest = null;
    } else if (rest !== null && (last - 1) * 4 <= rest.length && rest.length > 8) {
      // Shrink by halving so a node that once had many subscribers does not keep their room.
      this.rest = rest.slice(0, rest.length / 2);
    }
    return true;
  }
}
