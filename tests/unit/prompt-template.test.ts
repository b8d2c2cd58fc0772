import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { ValidationError } from '../../src/errors.ts';
import type { GenerationRequest } from '../../src/jobs/generation-request.ts';
import { checkTemplate, renderPrompt } from '../../src/jobs/prompt-template.ts';
import { TemplateCatalog } from '../../src/runtime/prompts/template-catalog.ts';

const PROMPTS_DIR = fileURLToPath(new URL('../../config/prompts/', import.meta.url));

const request: GenerationRequest = {
  base_id: 'appB',
  table_id: 'tblT',
  record_id: 'recR',
  field_id: 'fldF',
  prompt_version: 'summary-v1',
  inputs: { notes: 'Quote: "50 units"', amount: 3, active: true, owner: null },
  context: 'Prior thread: hello',
};

function invalidTemplate(raw: unknown, pattern: RegExp) {
  assert.throws(
    () => checkTemplate('t-v1', raw),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.equal(error.code, 'invalid_template');
      assert.match(error.message, /t-v1/);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('checkTemplate', () => {
  it('accepts a good template and defaults max_tokens to 512', () => {
    assert.deepEqual(checkTemplate('t-v1', { system: 'S', user: 'U {{inputs}} {{record_id}} {{field_id}} {{context}}' }), {
      version: 't-v1',
      system: 'S',
      user: 'U {{inputs}} {{record_id}} {{field_id}} {{context}}',
      max_tokens: 512,
    });
    assert.equal(checkTemplate('t-v1', { system: 'S', user: '{{inputs}}', max_tokens: 64 }).max_tokens, 64);
  });

  it('refuses a template that is not an object or lacks system/user strings', () => {
    for (const raw of [null, undefined, 'x', {}, { system: 'S' }, { user: '{{inputs}}' }, { system: 1, user: '{{inputs}}' }]) {
      invalidTemplate(raw, /system.*user/);
    }
  });

  it('refuses a template missing {{inputs}}', () => {
    invalidTemplate({ system: 'S', user: 'Summarize {{record_id}}' }, /\{\{inputs\}\}/);
  });

  it('refuses an unknown placeholder, naming it', () => {
    invalidTemplate({ system: 'S', user: '{{inputs}} {{customer_name}}' }, /\{\{customer_name\}\}/);
  });

  it('refuses a bad max_tokens', () => {
    for (const max_tokens of [0, -1, 1.5, '100', true, NaN]) invalidTemplate({ system: 'S', user: '{{inputs}}', max_tokens }, /max_tokens/);
  });
});

describe('renderPrompt', () => {
  const template = checkTemplate('t-v1', { system: 'You summarize.', user: 'Record {{record_id}} field {{field_id}}\n{{inputs}}\nContext: {{context}}' });

  it('gives a system and a user message', () => {
    const messages = renderPrompt(template, request);
    assert.equal(messages.length, 2);
    assert.deepEqual(messages[0], { role: 'system', content: 'You summarize.' });
    assert.equal(messages[1]?.role, 'user');
  });

  it('puts the inputs as canonical JSON in an <inputs> block, with ids and context', () => {
    const user = renderPrompt(template, request)[1]?.content;
    const canonical = '{"active":true,"amount":3,"notes":"Quote: \\"50 units\\"","owner":null}';
    assert.equal(user, `Record recR field fldF\n<inputs>${canonical}</inputs>\nContext: Prior thread: hello`);
  });

  it('renders the same prompt whatever the key order of the inputs', () => {
    const reordered = { ...request, inputs: { owner: null, active: true, amount: 3, notes: 'Quote: "50 units"' } };
    assert.deepEqual(renderPrompt(template, reordered), renderPrompt(template, request));
  });

  it('renders a missing context as empty', () => {
    const { context: _context, ...withoutContext } = request;
    assert.equal(renderPrompt(template, withoutContext)[1]?.content.endsWith('Context: '), true);
  });

  it('inserts user text literally: no placeholder expansion or $-patterns from the context', () => {
    const tricky = { ...request, context: "{{inputs}} $& $1 $$ $' {{record_id}}" };
    const user = renderPrompt(template, tricky)[1]?.content ?? '';
    assert.ok(user.endsWith("Context: {{inputs}} $& $1 $$ $' {{record_id}}"), user);
    assert.equal(user.split('<inputs>').length, 2);
  });
});

describe('TemplateCatalog', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'warden-prompts-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('loads the real templates in config/prompts', () => {
    const catalog = new TemplateCatalog(PROMPTS_DIR);
    for (const version of ['summary-v1', 'followup-v1']) {
      assert.ok(catalog.has(version));
      const template = catalog.get(version);
      assert.equal(template.version, version);
      assert.ok(template.user.includes('{{inputs}}'));
      assert.ok(Number.isInteger(template.max_tokens) && template.max_tokens > 0);
      const user = renderPrompt(template, { ...request, prompt_version: version })[1]?.content ?? '';
      assert.ok(user.includes('<inputs>{"active":true,'), user);
      assert.ok(!/\{\{\w+\}\}/.test(user), `unrendered placeholder in ${version}`);
    }
  });

  it('throws unknown_prompt_version for a version it does not hold', () => {
    const catalog = new TemplateCatalog(PROMPTS_DIR);
    assert.equal(catalog.has('summary-v999'), false);
    assert.throws(
      () => catalog.get('summary-v999'),
      (error: unknown) => error instanceof ValidationError && error.code === 'unknown_prompt_version' && error.message.includes('summary-v999'),
    );
  });

  it('refuses at load a directory holding a bad template, and ignores non-JSON files', () => {
    writeFileSync(join(scratch, 'README.md'), '# not a template');
    writeFileSync(join(scratch, 'ok-v1.json'), JSON.stringify({ system: 'S', user: '{{inputs}}' }));
    assert.ok(new TemplateCatalog(scratch).has('ok-v1'));
    writeFileSync(join(scratch, 'bad-v1.json'), JSON.stringify({ system: 'S', user: 'no inputs here' }));
    assert.throws(() => new TemplateCatalog(scratch), (error: unknown) => error instanceof ValidationError && error.code === 'invalid_template');
  });
});
