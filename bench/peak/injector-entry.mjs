// Worker threads do not inherit the tsx loader the supervisor runs under: register it, then load
// the TypeScript thread (as src/runtime/cpu/cpu-worker-entry.mjs does).
import { register } from 'tsx/esm/api';

register();
await import(new URL('./injector-thread.ts', import.meta.url).href);
