import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '../../errors.ts';
import { checkTemplate, type PromptTemplate } from '../../jobs/prompt-template.ts';

/** The prompt templates of one deployment, read once at start from `config/prompts/*.json`. */
export class TemplateCatalog {
  private readonly templates = new Map<string, PromptTemplate>();

  constructor(dir: string) {
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
      const version = file.slice(0, -'.json'.length);
      this.templates.set(version, checkTemplate(version, JSON.parse(readFileSync(join(dir, file), 'utf8'))));
    }
  }

  has(version: string): boolean {
    return this.templates.has(version);
  }

  get(version: string): PromptTemplate {
    const template = this.templates.get(version);
    if (!template) throw new ValidationError('unknown_prompt_version', `no prompt template '${version}'`);
    return template;
  }
}
