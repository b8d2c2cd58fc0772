// Worker threads do not inherit a loader registered through tsx's API (the CLI does that), so
// the worker registers it itself when it runs from TypeScript sources; a compiled build finds
// cpu-worker.js next to this file and needs no loader.
import { existsSync } from 'node:fs';

const compiled = new URL('./cpu-worker.js', import.meta.url);
let worker;
if (existsSync(compiled)) {
  worker = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  worker = await import(new URL('./cpu-worker.ts', import.meta.url).href);
}
export default worker.default;
