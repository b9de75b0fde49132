// Slow start: run `count` calls in batches of 1, 2, 4, ... and stop after the first batch
// with a failure. A create that fails for a reason that will not go away (quota, a bad
// template, admission) then costs one call, not hundreds.
export interface SlowStartResult {
  successes: number;
  /** The first error of the batch that stopped the run. */
  error?: unknown;
}

export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>): Promise<SlowStartResult> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    let error: unknown;
    for (const r of results) {
      if (r.status === 'fulfilled') successes++;
      else if (error === undefined) error = r.reason ?? new Error('failed');
    }
    if (error !== undefined) return { successes, error };
    remaining -= batch;
  }
  return { successes };
}
