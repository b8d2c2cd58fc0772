import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IllegalTransitionError, WardenError } from '../../src/errors.ts';
import { isTerminal, JOB_EVENTS, JOB_STATES, TERMINAL_STATES, type JobEvent, type JobState } from '../../src/jobs/job-states.ts';
import { statesAllowing, transition, TRANSITIONS } from '../../src/jobs/transition-table.ts';

/**
 * The lifecycle written out again, independently of src/jobs/transition-table.ts: a change to the
 * table in src must be made here too, on purpose. Format: state → event → [next, ...effects].
 */
const EXPECTED: Record<string, Record<string, string[]>> = {
  queued: {
    start: ['running', 'call_llm'],
    supersede: ['superseded', 'delete_message'],
    fail: ['failed', 'dead_letter_permanent', 'delete_message'],
    cancel: ['cancelled', 'delete_message'],
  },
  leased: {
    reclaim: ['leased', 'check_record'],
    release: ['queued', 'return_message'],
    start: ['running', 'call_llm'],
    supersede: ['superseded', 'delete_message'],
    fail: ['failed', 'dead_letter_permanent', 'delete_message'],
    retry: ['queued', 'schedule_retry'],
    exhaust: ['dead_lettered', 'dead_letter_transient', 'delete_message'],
    cancel: ['cancelled', 'delete_message'],
  },
  running: {
    reclaim: ['leased', 'check_record'],
    generate: ['generated', 'write_back'],
    retry: ['queued', 'schedule_retry'],
    exhaust: ['dead_lettered', 'dead_letter_transient', 'delete_message'],
    fail: ['failed', 'dead_letter_permanent', 'delete_message'],
  },
  generated: {
    reclaim: ['generated', 'write_back'],
    write: ['succeeded', 'delete_message'],
    supersede: ['superseded', 'delete_message'],
    retry: ['generated', 'schedule_retry'],
    exhaust: ['dead_lettered', 'dead_letter_transient', 'delete_message'],
    fail: ['failed', 'dead_letter_permanent', 'delete_message'],
  },
  succeeded: {},
  superseded: {},
  failed: { redrive: ['queued', 'enqueue'] },
  dead_lettered: { redrive: ['queued', 'enqueue'] },
  cancelled: {},
};

const EXPECTED_STATES = ['queued', 'leased', 'running', 'generated', 'succeeded', 'superseded', 'failed', 'dead_lettered', 'cancelled'];
const EXPECTED_EVENTS = ['reclaim', 'release', 'start', 'generate', 'retry', 'exhaust', 'fail', 'write', 'supersede', 'cancel', 'redrive'];
const EXPECTED_TERMINAL = ['succeeded', 'superseded', 'failed', 'dead_lettered', 'cancelled'];

describe('job states and events', () => {
  it('lists exactly the expected states and events', () => {
    assert.deepEqual([...JOB_STATES].sort(), [...EXPECTED_STATES].sort());
    assert.deepEqual([...JOB_EVENTS].sort(), [...EXPECTED_EVENTS].sort());
    assert.deepEqual(Object.keys(EXPECTED).sort(), [...EXPECTED_STATES].sort());
  });

  it('marks exactly the terminal states terminal', () => {
    assert.deepEqual([...TERMINAL_STATES].sort(), [...EXPECTED_TERMINAL].sort());
    for (const state of JOB_STATES) assert.equal(isTerminal(state), EXPECTED_TERMINAL.includes(state), state);
  });

  it('the table in src has a row for every state and nothing else', () => {
    assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...JOB_STATES].sort());
  });
});

describe('transition(): every state × every event', () => {
  for (const state of JOB_STATES) {
    for (const event of JOB_EVENTS) {
      const expected = EXPECTED[state]?.[event];
      if (expected) {
        const [next, ...effects] = expected;
        it(`${state} + ${event} → ${next} [${effects.join(', ')}]`, () => {
          const rule = transition(state, event);
          assert.equal(rule.next, next);
          assert.deepEqual([...rule.effects], effects);
        });
      } else {
        it(`${state} + ${event} is illegal`, () => {
          assert.throws(
            () => transition(state, event),
            (error: unknown) => {
              assert.ok(error instanceof IllegalTransitionError);
              assert.ok(error instanceof WardenError);
              assert.equal(error.code, 'illegal_transition');
              assert.equal(error.retryable, false);
              assert.deepEqual(error.details, { state, event });
              assert.match(error.message, new RegExp(`'${event}'.*'${state}'`));
              return true;
            },
          );
        });
      }
    }
  }

  it('covers exactly the pairs of the expected table (no extra legal pair in src)', () => {
    let legal = 0;
    for (const state of JOB_STATES) {
      for (const event of JOB_EVENTS) {
        if (TRANSITIONS[state][event] !== undefined) {
          legal += 1;
          assert.ok(EXPECTED[state]?.[event], `src allows ${state} + ${event}`);
        }
      }
    }
    assert.equal(legal, Object.values(EXPECTED).reduce((n, row) => n + Object.keys(row).length, 0));
  });
});

describe('terminal states', () => {
  it('accept nothing except redrive from failed and dead_lettered', () => {
    for (const state of EXPECTED_TERMINAL as JobState[]) {
      for (const event of JOB_EVENTS) {
        const allowed = event === 'redrive' && (state === 'failed' || state === 'dead_lettered');
        if (allowed) assert.equal(transition(state, event).next, 'queued');
        else assert.throws(() => transition(state, event), IllegalTransitionError, `${state} + ${event}`);
      }
    }
  });

  it('every non-terminal state can reach a terminal state', () => {
    const reachable = (from: JobState, seen = new Set<JobState>()): boolean => {
      if (isTerminal(from)) return true;
      seen.add(from);
      return JOB_EVENTS.some((event) => {
        const next = TRANSITIONS[from][event]?.next;
        return next !== undefined && !seen.has(next) && reachable(next, seen);
      });
    };
    for (const state of JOB_STATES) assert.ok(reachable(state), state);
  });

  it('every move into a terminal state deletes the SQS message', () => {
    for (const state of JOB_STATES) {
      for (const event of JOB_EVENTS) {
        const rule = TRANSITIONS[state][event];
        if (rule && isTerminal(rule.next)) assert.ok(rule.effects.includes('delete_message'), `${state} + ${event}`);
      }
    }
  });
});

describe('statesAllowing', () => {
  it('returns, for every event, exactly the states whose row holds it', () => {
    for (const event of JOB_EVENTS as readonly JobEvent[]) {
      const expected = EXPECTED_STATES.filter((state) => EXPECTED[state]?.[event] !== undefined);
      assert.deepEqual([...statesAllowing(event)].sort(), expected.sort(), event);
    }
  });

  it('spot checks the conditions DynamoDB writes are built from', () => {
    assert.deepEqual(statesAllowing('start').sort(), ['leased', 'queued']);
    assert.deepEqual(statesAllowing('redrive').sort(), ['dead_lettered', 'failed']);
    assert.deepEqual(statesAllowing('cancel').sort(), ['leased', 'queued']);
    assert.deepEqual(statesAllowing('reclaim').sort(), ['generated', 'leased', 'running']);
    assert.deepEqual(statesAllowing('write'), ['generated']);
  });
});
