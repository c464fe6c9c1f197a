/**
 * The Prometheus text exposition format (version 0.0.4), written by hand: the broker's counters
 * are plain numbers it already keeps, read at scrape time, so a client library's registry and
 * label maps would only add work per update (prom-client's Counter.inc looks up a label hash
 * each time) and a dependency. A Histogram here is fixed buckets in a typed array.
 */

/** Content-Type of a scrape. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

/** Builds one scrape's text, family by family. */
export class PrometheusWriter {
  private readonly lines: string[] = [];

  /** Starts a metric family: its HELP and TYPE lines. */
  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): this {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    return this;
  }

  /** One sample of the current family. */
  sample(name: string, value: number, labels?: Labels): this {
    this.lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  /** A family with one unlabelled sample. */
  single(name: string, type: 'counter' | 'gauge', help: string, value: number): this {
    return this.family(name, type, help).sample(name, value);
  }

  /** A histogram family from its buckets. */
  histogram(name: string, help: string, h: Histogram): this {
    this.family(name, 'histogram', help);
    let cumulative = 0;
    for (let i = 0; i < h.bounds.length; i++) {
      cumulative += h.counts[i] as number;
      this.sample(`${name}_bucket`, cumulative, { le: formatValue(h.bounds[i]!) });
    }
    this.sample(`${name}_bucket`, h.count, { le: '+Inf' });
    this.sample(`${name}_sum`, h.sum);
    return this.sample(`${name}_count`, h.count);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

function formatLabels(labels: Labels | undefined): string {
  if (labels === undefined) return '';
  const parts: string[] = [];
  for (const key of Object.keys(labels)) parts.push(`${key}="${escapeLabel(labels[key]!)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** Label values escape backslash, double quote and newline. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** Fixed-bucket histogram: observe() is a short scan and two additions, nothing allocated. */
export class Histogram {
  /** Observations per bucket (not cumulative); the last bucket is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  /** `bounds`: ascending upper bounds (seconds for latencies). */
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i] += 1;
    this.sum += value;
    this.count++;
  }
}

/** Latency buckets from 100 µs to 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
