import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { ValidationError } from '../errors.ts';
import { configSchema, type WardenConfig } from './config-schema.ts';

const validate = new Ajv({ useDefaults: true, allErrors: false, strict: true }).compile(configSchema);

/** Environment overrides: the few values that differ per host rather than per deployment. */
const ENV_OVERRIDES: Array<[string, string[]]> = [
  ['WARDEN_REDIS_URL', ['redis', 'url']],
  ['WARDEN_LLM_BASE_URL', ['llm', 'baseUrl']],
  ['WARDEN_RECORD_STORE_URL', ['recordStore', 'baseUrl']],
  ['WARDEN_AWS_REGION', ['aws', 'region']],
  ['WARDEN_LOG_LEVEL', ['log', 'level']],
  ['WARDEN_INGEST_PORT', ['ingest', 'port']],
];

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (node[key] === undefined || node[key] === null || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/**
 * Validates a config object (defaults filled in). Throws ValidationError `invalid_config` whose
 * message names the offending field, so a bad deployment fails at boot and says why.
 */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}): WardenConfig {
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ValidationError('invalid_config', 'invalid config: config must be a JSON object');
  }
  const config = structuredClone(raw ?? {}) as Record<string, unknown>;
  for (const [name, path] of ENV_OVERRIDES) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(config, path, /^\d+$/.test(value) && name.endsWith('PORT') ? Number(value) : value);
  }
  if (!validate(config)) {
    const error = validate.errors?.[0];
    const at = (error?.instancePath || '').slice(1).replaceAll('/', '.');
    const join = (name: string) => (at ? `${at}.${name}` : name);
    let message = `${at || 'config'} ${error?.message ?? 'is invalid'}`;
    if (error?.keyword === 'required') message = `${join(String(error.params['missingProperty']))} is required`;
    if (error?.keyword === 'additionalProperties') message = `${join(String(error.params['additionalProperty']))} is not a known field`;
    throw new ValidationError('invalid_config', `invalid config: ${message}`);
  }
  return config as unknown as WardenConfig;
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): WardenConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ValidationError('invalid_config', `cannot read config file ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ValidationError('invalid_config', `config file ${file} is not JSON: ${(error as Error).message}`);
  }
  return parseConfig(raw, env);
}
