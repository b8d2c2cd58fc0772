// Preloaded with NODE_OPTIONS="--import <this file>" (Node 20 refuses --cpu-prof in NODE_OPTIONS):
// profiles the main thread of the process from start to exit with the inspector and writes a
// .cpuprofile into $BENCH_CPU_PROF_DIR. In-process inspector sessions answer synchronously, so
// the profile can be stopped and written inside the 'exit' event.
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir && isMainThread) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_CPU_PROF_INTERVAL_US ?? 1000) });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error || !result) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
