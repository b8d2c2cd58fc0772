import { move, Piscina } from 'piscina';
import { runCpuTask, type CpuTask } from './cpu-tasks.ts';

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
