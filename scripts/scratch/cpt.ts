import { CpuPool } from '/work/main/src/runtime/cpu/cpu-pool.ts';
const pool = new CpuPool({ threads: 1, maxQueue: 1000 });
const r = await pool.prepare({ kind: 'prepare', template: { version: 'v', system: 's', user: 'u {{inputs}} {{context}}', max_tokens: 10 }, request: { base_id: 'a', table_id: 'b', record_id: 'c', field_id: 'd', prompt_version: 'v', inputs: { a: 'x' }, context: 'hello world '.repeat(5000) } });
console.log(r.estimatedTokens, r.messages[1]!.content.length);
await pool.close();
