import type { RuntimeContext } from '../runtime/runtime-context.ts';
import type { SubmitDeps } from './submit-job.ts';

/** The submission dependencies of a runtime, as the API, the demo and the tests all need them. */
export function ingestDeps(runtime: RuntimeContext): SubmitDeps {
  return {
    checkpoints: runtime.checkpoints,
    payloads: runtime.payloads,
    queueFor: (partition) => runtime.queueFor(partition),
    promptExists: (version) => runtime.templates.has(version),
    partitions: runtime.config.partitions,
    clock: runtime.clock,
    metrics: runtime.metrics,
    cipher: runtime.cipher,
    // Twice the visibility timeout: by then a sent message would have been received at least once.
    resendAfterMs: runtime.config.queues.visibilityTimeoutS * 2000,
  };
}
