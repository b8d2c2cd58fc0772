/**
 * `npm run audit:plaintext`: a workload whose prompts and outputs carry a marker, then a scan of
 * every raw S3 object, DynamoDB item, SQS message and log line of the run. The last line is one
 * JSON object; the command exits 1 when the marker appears anywhere in plaintext.
 */
import { parseArgs } from 'node:util';
import { runPlaintextAudit } from '../src/stack/audit/plaintext-audit.ts';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
const { values } = parseArgs({ options: { jobs: { type: 'string' }, 'work-dir': { type: 'string' } } });
const report = await runPlaintextAudit({ jobs: Number(values.jobs ?? 40), workDir: values['work-dir'] ?? '.warden/audit', marker: 'PII-MARKER-5f1c9e' });
const { hits, ...summary } = report;
console.log(`jobs ${report.jobs}: scanned ${report.scanned_objects} S3 objects, ${report.scanned_items} DynamoDB items, ${report.scanned_messages} SQS messages, ${report.scanned_log_lines} log lines`);
for (const hit of hits) console.log(`  plaintext found in ${hit}`);
console.log(JSON.stringify(summary));
process.exit(report.plaintext_hits === 0 ? 0 : 1);
