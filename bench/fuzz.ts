/**
 * The long form of the fuzz suite (tests/fuzz): many more malformed HTTP requests against the real
 * ingest API and poison messages against the real partition consumer, each on its own local stack.
 *
 *   node --import tsx bench/fuzz.ts                       # 10,000 of each
 *   WARDEN_FUZZ_RUNS=50000 WARDEN_FUZZ_SEED=7 node --import tsx bench/fuzz.ts
 *
 * Prints the details as JSON lines, then as its last line `{cases, http_5xx, crashes, poison_to_dlq}`.
 * Exits 1 when anything failed (a 5xx, a crash, a poison message not dead-lettered with a reason,
 * a write for a refused input, an LLM call).
 */
import { startHarness } from '../tests/support/harness.ts';
import { fuzzRuns, fuzzSeed, summarize } from '../tests/fuzz/fuzz-support.ts';
import { runHttpFuzz } from '../tests/fuzz/http-fuzz.ts';
import { runSqsFuzz } from '../tests/fuzz/sqs-fuzz.ts';

const runs = fuzzRuns(10_000);
const seed = fuzzSeed(Date.now() % 2 ** 31);

const api = await startHarness({ supervise: false });
const http = await runHttpFuzz(api, { runs, seed, concurrency: 32 }).finally(() => api.stop());
const { failures: httpFailures, crashErrors: httpCrashes, writtenForRefused, ...httpNumbers } = http;
console.log(JSON.stringify({ http: { seed, ...httpNumbers, writtenForRefused: writtenForRefused.length } }));
if (httpFailures.length > 0) console.log(summarize(httpFailures, 2, 40));
for (const crash of httpCrashes.slice(0, 5)) console.log(`crash: ${crash}`);

const consumer = await startHarness();
// Enough time for every message to go through, and for SQS to redrive one warden failed to
// dead-letter itself (after maxReceiveCount receives): that one then shows as "no_reason_code".
const sqs = await runSqsFuzz(consumer, { runs, seed, timeoutMs: Math.max(90_000, runs * 15) }).finally(() => consumer.stop());
const { failures: sqsFailures, crashErrors: sqsCrashes, jobsWritten, ...sqsNumbers } = sqs;
console.log(JSON.stringify({ sqs: { seed, ...sqsNumbers, jobsWritten: jobsWritten.length } }));
if (sqsFailures.length > 0) console.log(summarize(sqsFailures, 2, 40));
for (const crash of sqsCrashes.slice(0, 5)) console.log(`crash: ${crash}`);

const failed =
  httpFailures.length + sqsFailures.length + http.crashes + sqs.crashes + writtenForRefused.length + jobsWritten.length + sqs.llmCalls > 0 || !http.serverAlive;
console.log(JSON.stringify({ cases: http.cases + sqs.cases, http_5xx: http.http5xx, crashes: http.crashes + sqs.crashes, poison_to_dlq: sqs.poisonToDlq }));
process.exitCode = failed ? 1 : 0;
