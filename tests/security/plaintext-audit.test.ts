import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runPlaintextAudit } from '../../src/stack/audit/plaintext-audit.ts';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
const dir = mkdtempSync(join(tmpdir(), 'warden-audit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('no plaintext payload at rest, in transit through SQS, or in logs', () => {
  it('a marker in every prompt and output appears in no S3 object, DynamoDB item, SQS message or log line', async () => {
    const report = await runPlaintextAudit({ jobs: 10, workDir: dir, marker: 'PII-MARKER-test-3b7d' });
    assert.deepEqual(report.hits, []);
    assert.equal(report.plaintext_hits, 0);
    // The scan saw the data: one context object per job, job items, messages and log lines.
    assert.ok(report.scanned_objects >= 10);
    assert.ok(report.scanned_items >= 10);
    assert.ok(report.scanned_messages >= 10);
    assert.ok(report.scanned_log_lines > 10);
  });
});
