/**
 * The literal children of a topic-tree node (the subscription trie and the retained index):
 * one child in a plain field, a Map only from the second one on, because most of a device tree
 * is single-child chains and a Map per node would dominate memory. The fields live on the node
 * itself (no holder object per node); these functions work on them.
 */

/** A node holding literal children by level name. */
export interface LevelParent<N extends { readonly name: string }> {
  one: N | null;
  map: Map<string, N> | null;
}

/** The child for `level`, or null. */
export function getChild<N extends { readonly name: string }>(node: LevelParent<N>, level: string): N | null {
  const one = node.one;
  if (one !== null) return one.name === level ? one : null;
  const map = node.map;
  return map === null ? null : (map.get(level) ?? null);
}

/** Adds a child (its name must not be present yet). */
export function addChild<N extends { readonly name: string }>(node: LevelParent<N>, child: N): void {
  if (node.map !== null) {
    node.map.set(child.name, child);
  } else if (node.one === null) {
    node.one = child;
  } else {
    const map = new Map<string, N>();
    map.set(node.one.name, node.one);
    map.set(child.name, child);
    node.map = map;
    node.one = null;
  }
}

/** Removes the child named `name`, back to the Map-free form when one child is left. */
export function removeChild<N extends { readonly name: string }>(node: LevelParent<N>, name: string): void {
  if (node.one !== null) {
    if (node.one.name === name) node.one = null;
    return;
  }
  const map = node.map;
  if (map === null) return;
  map.delete(name);
  if (map.size === 1) {
    for (const only of map.values()) node.one = only;
    node.map = null;
  }
}
