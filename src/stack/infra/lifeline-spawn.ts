import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Spawns a native server (redis-server) so that it dies with this process, even when this process
 * is SIGKILLed and no exit handler runs. Linux has PR_SET_PDEATHSIG but Node does not expose it,
 * so a POSIX sh stands in: it holds the read end of a pipe whose write end only this process
 * holds; when the kernel closes that pipe (any death of ours), `read` sees EOF and the shell
 * SIGKILLs the server. The shell also reaps the server, so a stopped server leaves no zombie.
 */
const LIFELINE_SCRIPT = [
  'bin="$1"; shift',
  // Asynchronous lists get /dev/null as stdin, so keep the pipe on fd 3 for the watcher.
  'exec 3<&0',
  '"$bin" "$@" </dev/null 3<&- &',
  'server=$!',
  'echo "lifeline-pid $server"',
  '{ while read -r _ <&3; do :; done; kill -9 "$server" 2>/dev/null;',
  '  if [ -n "$LIFELINE_RMDIR" ]; then rm -rf -- "$LIFELINE_RMDIR"; fi; } &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$server"; status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

export interface LifelineProcess {
  /** The server's own pid (not the shell's). */
  readonly pid: number;
  /** Resolves once the server has exited and been reaped. */
  readonly exited: Promise<void>;
  /** Whether the server is known to have exited. */
  readonly hasExited: () => boolean;
  /** The last few KB of the server's stdout and stderr, for error messages. */
  readonly outputTail: () => string;
  /** SIGKILLs the server; the shell then reaps it and exits. Safe to call more than once. */
  readonly kill: () => void;
}

const TAIL_BYTES = 4_096;

export interface LifelineOptions {
  cwd: string;
  /** A directory the shell removes after killing the server when this process died first. */
  removeDirOnParentDeath?: string;
}

export function spawnWithLifeline(binary: string, args: string[], options: LifelineOptions): Promise<LifelineProcess> {
  const shell: ChildProcess = spawn('/bin/sh', ['-c', LIFELINE_SCRIPT, 'lifeline', binary, ...args], {
    cwd: options.cwd,
    env: { ...process.env, LIFELINE_RMDIR: options.removeDirOnParentDeath ?? '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let tail = '';
  let exited = false;
  const append = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  };
  const exitPromise = new Promise<void>((resolve) => {
    shell.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  shell.stderr?.on('data', append);

  return new Promise((resolve, reject) => {
    let lineBuffer = '';
    const onStdout = (chunk: Buffer): void => {
      append(chunk);
      lineBuffer += chunk.toString('utf8');
      const match = /^lifeline-pid (\d+)$/m.exec(lineBuffer);
      if (match === null) return;
      const pid = Number(match[1]);
      shell.stdout?.off('data', onStdout);
      shell.stdout?.on('data', append);
      resolve({
        pid,
        exited: exitPromise,
        hasExited: () => exited,
        outputTail: () => tail.replace(/^lifeline-pid \d+\n/m, ''),
        kill: () => {
          if (exited) return;
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone; the shell is about to exit on its own.
          }
        },
      });
    };
    shell.stdout?.on('data', onStdout);
    shell.once('error', reject);
    void exitPromise.then(() => reject(new Error(`${binary} exited before it started: ${tail.trim()}`)));
  });
}
