/** Running afterCommit callbacks, shared by every store. */
import type { StoreFullError } from './errors.js';

/** Reports an error to `onError`, or rethrows it from a microtask so it is never swallowed. */
export function reportStoreError(onError: ((error: unknown) => void) | undefined, error: unknown): void {
  if (onError !== undefined) onError(error);
  else
    queueMicrotask(() => {
      throw error;
    });
}

/**
 * Calls fns[i](args[i], failure) in order; one faulty callback must not starve the
 * acknowledgements queued behind it. `failure` is null when the writes are durable.
 */
export function runCommitCallbacks(fns: readonly unknown[], args: readonly unknown[], failure: StoreFullError | null, onError: ((error: unknown) => void) | undefined): void {
  for (let i = 0; i < fns.length; i++) {
    try {
      (fns[i] as (arg: unknown, failure: StoreFullError | null) => void)(args[i], failure);
    } catch (error) {
      reportStoreError(onError, error);
    }
  }
}
