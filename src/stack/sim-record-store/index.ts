export { startSimRecordStore, type SimRecordStore } from './server.ts';
export type { SimRecordStoreOptions } from './options.ts';
export type { SimRecordStoreStats } from './store-stats.ts';
export type { SimRecord, Fields } from './record-table.ts';
