/**
 * Event-loop delay with and without the CPU pool, at a job rate with 64 KB prompts: prepares
 * prompts at `--rate` per second for `--seconds`, once inline (threads 0) and once on the pool,
 * and reports the event loop's delay percentiles for each. Last line: one JSON object.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CpuPool } from '../src/runtime/cpu/cpu-pool.ts';
import type { PromptTemplate } from '../src/jobs/prompt-template.ts';

const { values } = parseArgs({ options: { rate: { type: 'string' }, seconds: { type: 'string' }, threads: { type: 'string' } } });
const rate = Number(values.rate ?? 400);
const seconds = Number(values.seconds ?? 10);
const threads = Number(values.threads ?? 1);

const template: PromptTemplate = { version: 'bench', system: 'You summarize records.', user: 'Record {{record_id}}\n{{inputs}}\n{{context}}', max_tokens: 300 };
const words = 'the customer asked about renewal pricing and the next quarterly review meeting with finance'.split(' ');
function context(i: number): string {
  let text = '';
  while (text.length < 64 * 1024) text += `${words[(text.length + i) % words.length]} `;
  return text.slice(0, 64 * 1024);
}

async function run(poolThreads: number) {
  const pool = new CpuPool({ threads: poolThreads, maxQueue: 100_000 });
  await pool.prepare({ kind: 'prepare', template, request: { base_id: 'a', table_id: 'b', record_id: 'warm', field_id: 'f', prompt_version: 'bench', inputs: { x: 'y' }, context: 'warm' } });
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const contexts = Array.from({ length: 16 }, (_, i) => context(i));
  const started = performance.now();
  const pending: Array<Promise<unknown>> = [];
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      for (; sent < due; sent += 1) {
        const request = { base_id: 'app', table_id: 'tbl', record_id: `rec${sent}`, field_id: 'fld', prompt_version: 'bench', inputs: { fldNotes: `n${sent}` }, context: contexts[sent % 16] as string };
        pending.push(pool.prepare({ kind: 'prepare', template, request }));
      }
      if (performance.now() - started >= seconds * 1000) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  await Promise.all(pending);
  histogram.disable();
  await pool.close();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return { threads: poolThreads, tasks: sent, loop_delay_p50_ms: ms(histogram.percentile(50)), loop_delay_p99_ms: ms(histogram.percentile(99)), loop_delay_max_ms: ms(histogram.max) };
}

const inline = await run(0);
const pooled = await run(threads);
console.log(`prompt preparation at ${rate}/s, 64 KB prompts, ${seconds} s each`);
console.log('mode        tasks   loop delay p50   p99      max');
for (const r of [inline, pooled]) {
  console.log(`${(r.threads === 0 ? 'inline' : `pool(${r.threads})`).padEnd(10)}  ${String(r.tasks).padStart(5)}   ${String(r.loop_delay_p50_ms).padStart(8)} ms   ${String(r.loop_delay_p99_ms).padStart(6)} ms ${String(r.loop_delay_max_ms).padStart(6)} ms`);
}
console.log(JSON.stringify({ rate, seconds, prompt_bytes: 64 * 1024, inline_loop_delay_p99_ms: inline.loop_delay_p99_ms, pool_loop_delay_p99_ms: pooled.loop_delay_p99_ms, pool_threads: threads, inline_loop_delay_max_ms: inline.loop_delay_max_ms, pool_loop_delay_max_ms: pooled.loop_delay_max_ms }));
