import { IllegalTransitionError } from '../errors.ts';
import type { JobEvent, JobState } from './job-states.ts';

/**
 * What the actor must do after a transition has been checkpointed. The reducer only names the
 * effect; the partition actor performs it (the XState `transition()` split of pure logic and
 * side effects).
 */
export type JobEffect =
  | 'check_record' // read the record (is the job still current?), then prepare and pass the gate
  | 'call_llm' // render the prompt and call the provider
  | 'write_back' // write the memoized result with If-Match
  | 'schedule_retry' // hide the message until the next attempt time
  | 'return_message' // make the message visible again at once (release)
  | 'dead_letter_transient' // copy to the transient DLQ (safe to replay)
  | 'dead_letter_permanent' // copy to the permanent DLQ (needs a person)
  | 'enqueue' // send a fresh message to the partition queue (redrive)
  | 'delete_message'; // the job is finished: delete its SQS message

export interface TransitionRule {
  readonly next: JobState;
  readonly effects: readonly JobEffect[];
}

type Table = { readonly [S in JobState]: { readonly [E in JobEvent]?: TransitionRule } };

const rule = (next: JobState, ...effects: JobEffect[]): TransitionRule => ({ next, effects });

/**
 * The whole job lifecycle as data: (state, event) → (next state, effects). A pair not listed is
 * illegal. DynamoDB enforces the same table: every checkpoint is conditional on the `from` state.
 */
export const TRANSITIONS: Table = {
  // A queued job is checked and made ready without a write; `start` is its claim.
  queued: {
    start: rule('running', 'call_llm'),
    supersede: rule('superseded', 'delete_message'),
    fail: rule('failed', 'dead_letter_permanent', 'delete_message'),
    cancel: rule('cancelled', 'delete_message'),
  },
  leased: {
    reclaim: rule('leased', 'check_record'),
    release: rule('queued', 'return_message'),
    start: rule('running', 'call_llm'),
    supersede: rule('superseded', 'delete_message'),
    fail: rule('failed', 'dead_letter_permanent', 'delete_message'),
    retry: rule('queued', 'schedule_retry'),
    exhaust: rule('dead_lettered', 'dead_letter_transient', 'delete_message'),
    cancel: rule('cancelled', 'delete_message'),
  },
  running: {
    // The previous owner died mid-call: the new owner re-checks and calls again (the one
    // duplicate LLM call the design tolerates).
    reclaim: rule('leased', 'check_record'),
    generate: rule('generated', 'write_back'),
    retry: rule('queued', 'schedule_retry'),
    exhaust: rule('dead_lettered', 'dead_letter_transient', 'delete_message'),
    fail: rule('failed', 'dead_letter_permanent', 'delete_message'),
  },
  generated: {
    // The result is paid for: a new owner only writes it back, never calls the LLM again.
    reclaim: rule('generated', 'write_back'),
    write: rule('succeeded', 'delete_message'),
    supersede: rule('superseded', 'delete_message'),
    retry: rule('generated', 'schedule_retry'),
    exhaust: rule('dead_lettered', 'dead_letter_transient', 'delete_message'),
    fail: rule('failed', 'dead_letter_permanent', 'delete_message'),
  },
  succeeded: {},
  superseded: {},
  failed: { redrive: rule('queued', 'enqueue') },
  dead_lettered: { redrive: rule('queued', 'enqueue') },
  cancelled: {},
};

/** The pure reducer. Throws IllegalTransitionError for any pair the table does not hold. */
export function transition(state: JobState, event: JobEvent): TransitionRule {
  const found = TRANSITIONS[state]?.[event];
  if (!found) throw new IllegalTransitionError(state, event);
  return found;
}

/** Every state from which `event` is legal; the DynamoDB condition is built from this. */
export function statesAllowing(event: JobEvent): JobState[] {
  return (Object.keys(TRANSITIONS) as JobState[]).filter((state) => TRANSITIONS[state][event] !== undefined);
}
