import { ValidationError } from '../errors.ts';
import { canonicalJson } from './canonical-json.ts';
import type { GenerationRequest } from './generation-request.ts';

/** A versioned prompt template (config/prompts/<prompt_version>.json). */
export interface PromptTemplate {
  version: string;
  system: string;
  user: string;
  max_tokens: number;
}

const PLACEHOLDER = /\{\{(\w+)\}\}/g;
const KNOWN = new Set(['record_id', 'field_id', 'inputs', 'context']);

/** Checks a template's shape once at load, so rendering can never meet an unknown placeholder. */
export function checkTemplate(version: string, raw: unknown): PromptTemplate {
  const t = raw as Partial<PromptTemplate> | null;
  if (!t || typeof t.system !== 'string' || typeof t.user !== 'string') {
    throw new ValidationError('invalid_template', `prompt template ${version} needs string 'system' and 'user'`);
  }
  if (!t.user.includes('{{inputs}}')) {
    throw new ValidationError('invalid_template', `prompt template ${version} must place {{inputs}}: the write-back re-checks them`);
  }
  for (const [, name] of t.user.matchAll(PLACEHOLDER)) {
    if (!KNOWN.has(name as string)) throw new ValidationError('invalid_template', `prompt template ${version} uses unknown {{${name}}}`);
  }
  const maxTokens = t.max_tokens ?? 512;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new ValidationError('invalid_template', `prompt template ${version}: max_tokens must be a positive integer`);
  }
  return { version, system: t.system, user: t.user, max_tokens: maxTokens };
}

/**
 * Renders the chat messages. The inputs go in as an `<inputs>` JSON block in canonical form: the
 * model reads them, and the prompt names exactly the field values the result was computed from.
 */
export function renderPrompt(template: PromptTemplate, request: GenerationRequest) {
  const values: Record<string, string> = {
    record_id: request.record_id,
    field_id: request.field_id,
    inputs: `<inputs>${canonicalJson(request.inputs)}</inputs>`,
    context: request.context ?? '',
  };
  return [
    { role: 'system' as const, content: template.system },
    { role: 'user' as const, content: template.user.replace(PLACEHOLDER, (_, name: string) => values[name] ?? '') },
  ];
}
