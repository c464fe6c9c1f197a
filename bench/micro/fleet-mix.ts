/**
 * The realistic subscription mix the trie benches share: device topics
 * fleet/{region}/{vehicle}/{leaf}, region-wide wildcard filters first, then per-vehicle filters
 * of which about 20% carry a wildcard. Deterministic, so runs and implementations compare.
 */
const REGIONS = 32;
const LEAVES = ['telemetry', 'status', 'cmd', 'config'];
const REGION_WIDE = 256;

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const region = (v: number): string => `r${v % REGIONS}`;

/** The i-th subscription filter of the mix over `vehicles` vehicles. */
export function filterFor(i: number, vehicles: number, rand: () => number): string {
  if (i < REGION_WIDE) {
    const r = `r${i % REGIONS}`;
    return i % 5 === 0 ? `fleet/${r}/#` : `fleet/${r}/+/${LEAVES[i % LEAVES.length]}`;
  }
  const v = Math.floor(rand() * vehicles);
  const x = rand();
  if (x < 0.8) return `fleet/${region(v)}/v${v}/${LEAVES[Math.floor(rand() * LEAVES.length)]}`;
  if (x < 0.9) return `fleet/${region(v)}/v${v}/#`;
  return `fleet/+/v${v}/status`;
}

/** `count` device topics to publish to. */
export function topics(count: number, vehicles: number, rand: () => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const v = Math.floor(rand() * vehicles);
    out.push(`fleet/${region(v)}/v${v}/${LEAVES[Math.floor(rand() * LEAVES.length)]}`);
  }
  return out;
}
