export { startSimLlm, type SimLlm } from './server.ts';
export type { SimLlmOptions } from './options.ts';
export type { SimLlmFaults } from './faults.ts';
export { DEFAULT_FAULTS } from './faults.ts';
export type { SimLlmStats, LatencySummary, InjectedFault } from './call-stats.ts';
export { createLatencySampler, lognormalMs, mulberry32, standardNormal } from './random.ts';
export { estimateTokens, generateContent } from './completion.ts';
