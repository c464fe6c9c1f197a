/** Latency histograms (hdr-histogram-js, microseconds) and their transfer between processes. */

import * as hdr from 'hdr-histogram-js';

/** A histogram of microseconds, 3 significant digits, growing past one minute when needed. */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

/** The compact text form a worker sends to the coordinator ('' when empty). */
export function encodeHistogram(h: hdr.Histogram): string {
  return h.totalCount === 0 ? '' : hdr.encodeIntoCompressedBase64(h);
}

/** Adds an encoded histogram (from encodeHistogram) into `into`. */
export function addEncoded(into: hdr.Histogram, encoded: string): void {
  if (encoded === '') return;
  const h = hdr.decodeFromCompressedBase64(encoded);
  into.add(h);
  h.destroy();
}

/** Percentiles of a histogram in microseconds; null when nothing was recorded. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** The figures a summary and the JSON report show. */
export function summarise(h: hdr.Histogram): LatencySummary | null {
  if (h.totalCount === 0) return null;
  return {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
    mean: Math.round(h.mean),
  };
}

export type { Histogram } from 'hdr-histogram-js';
