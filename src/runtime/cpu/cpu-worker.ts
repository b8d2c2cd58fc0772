import { runCpuTask, type CpuTask } from './cpu-tasks.ts';

/** The piscina worker: one exported function, one task at a time. */
export default function cpuWorker(task: CpuTask) {
  return runCpuTask(task);
}
