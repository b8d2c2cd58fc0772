import { setPriority } from 'node:os';
import { move, Piscina } from 'piscina';
import { runCpuTask, type CpuTask } from './cpu-tasks.ts';

export interface CpuWorkerData {
  niceness: number;
}

// Linux keeps a nice value per thread: pid 0 is this worker thread alone, not the event loop.
const { niceness } = (Piscina.workerData ?? { niceness: 0 }) as CpuWorkerData;
if (niceness > 0) {
  try {
    setPriority(0, niceness);
  } catch {
    // Not permitted here (or not Linux): the thread runs at the event loop's priority.
  }
}

/**
 * The piscina worker: one exported function, one task at a time. A prepared prompt's encoded
 * messages are transferred, not copied: the bytes move to the event loop's thread for free.
 */
export default function cpuWorker(task: CpuTask) {
  if (task.kind === 'check') return runCpuTask(task);
  const prepared = runCpuTask(task);
  // piscina's Transferable type names its symbols by their private declarations; these are them.
  const transferable = { [Piscina.transferableSymbol]: [prepared.messages.json.buffer], [Piscina.valueSymbol]: prepared };
  return move(transferable as unknown as Parameters<typeof move>[0]);
}
