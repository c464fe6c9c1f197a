/**
 * Bytes allocated on the JavaScript heap over a stretch of code: a figure the machine's other
 * tenants move far less than a time, for benches that measure allocation discipline.
 */
import { GCProfiler, getHeapStatistics } from 'node:v8';

/** Starts counting; the function returned stops and answers the bytes allocated since (the heap's growth plus what every collection in between freed). */
export function countAllocation(): () => number {
  const gcs = new GCProfiler();
  gcs.start();
  const before = getHeapStatistics().used_heap_size;
  return () => {
    let freed = 0;
    for (const gc of gcs.stop()?.statistics ?? []) freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    return getHeapStatistics().used_heap_size - before + freed;
  };
}
