/**
 * Writes openapi/warden-ingest.json from the code (src/ingest/http/openapi.ts).
 * Run: node --import tsx openapi/generate.ts   (tests/api/openapi-document.test.ts fails until you do)
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openApiText } from '../src/ingest/http/openapi.ts';

const target = fileURLToPath(new URL('./warden-ingest.json', import.meta.url));
writeFileSync(target, openApiText());
console.log(`wrote ${target}`);
