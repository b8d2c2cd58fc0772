import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ValidationError, WardenError } from '../../errors.ts';
import { getFreePort } from './free-port.ts';
import { spawnWithLifeline, type LifelineProcess } from './lifeline-spawn.ts';
import { onProcessExit } from './process-cleanup.ts';
import { redisAnswersPing, redisCommand, redisProcessId } from './redis-command.ts';

export interface RedisServerOptions {
  /** TCP port on 127.0.0.1. Default: a free port (retried if another process takes it first). */
  port?: number;
  /** Working directory for dump.rdb. Default: a fresh temp dir, removed on stop(). */
  dir?: string;
  /** How long to wait for PONG after spawning. Default 10 000 ms. */
  startTimeoutMs?: number;
}

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** pid of the current redis-server process (changes on restart). */
  readonly pid: number;
  /** SIGKILLs the server and removes the temp dir it created. Idempotent. */
  stop(): Promise<void>;
  /**
   * SIGKILLs the server and starts a new one on the same port. `wipe: true` starts it empty (a
   * failover that lost data); `wipe: false` SAVEs first so the new process loads the same data
   * (a failover to an in-sync replica). Clients see their connections drop either way.
   */
  restart(options: { wipe: boolean }): Promise<void>;
}

const BINARY = 'redis-server';
const PORT_ATTEMPTS = 3;

function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this PATH entry.
    }
  }
  return undefined;
}

function validate(options: RedisServerOptions): void {
  const { port, dir, startTimeoutMs } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) {
    throw new ValidationError('infra_option_invalid', `startRedisServer: options.port must be an integer in 1..65535, got ${String(port)}`);
  }
  if (dir !== undefined && (typeof dir !== 'string' || dir === '')) {
    throw new ValidationError('infra_option_invalid', 'startRedisServer: options.dir must be a non-empty path');
  }
  if (startTimeoutMs !== undefined && (!Number.isFinite(startTimeoutMs) || startTimeoutMs <= 0)) {
    throw new ValidationError('infra_option_invalid', `startRedisServer: options.startTimeoutMs must be a positive number, got ${String(startTimeoutMs)}`);
  }
}

async function launch(binary: string, port: number, dir: string, ownDir: boolean, timeoutMs: number): Promise<LifelineProcess> {
  // No persistence of our own: --save "" and no AOF keep the data in memory only, so a restart
  // with wipe loses everything; dump.rdb appears only when restart({wipe:false}) asks for SAVE.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--daemonize', 'no', '--dir', dir, '--dbfilename', 'dump.rdb', '--protected-mode', 'yes'];
  const child = await spawnWithLifeline(binary, args, { cwd: dir, removeDirOnParentDeath: ownDir ? dir : undefined });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.hasExited()) break;
    // PONG alone could come from a foreign server that won the port; only our pid counts.
    if ((await redisAnswersPing(port)) && (await redisProcessId(port)) === child.pid) return child;
    await sleep(20);
  }
  child.kill();
  await child.exited;
  const output = child.outputTail().trim().split('\n').slice(-5).join('\n');
  throw new WardenError('redis_start_failed', `redis-server on 127.0.0.1:${port} did not answer PING within ${timeoutMs} ms:\n${output}`, {
    retryable: /Address already in use/i.test(output),
  });
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  validate(options);
  const binary = findOnPath(BINARY);
  if (binary === undefined) {
    throw new WardenError('redis_server_missing', 'redis-server is not on PATH: run scripts/ensure-redis.sh (installs the Debian package redis-server) or set REDIS_URL');
  }
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'warden-redis-'));

  let child: LifelineProcess | undefined;
  let current: LifelineProcess | undefined;
  const removeDir = (): void => {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  // Registered before the first spawn so an exit during startup leaves nothing behind either.
  const unregister = onProcessExit(() => {
    current?.kill();
    removeDir();
  });
  let port = options.port ?? 0;
  for (let attempt = 1; child === undefined; attempt += 1) {
    if (options.port === undefined) port = await getFreePort();
    try {
      child = await launch(binary, port, dir, ownDir, timeoutMs);
    } catch (error) {
      // Another process may take a free port between the probe and redis' bind: pick another.
      const portRace = error instanceof WardenError && error.retryable && options.port === undefined;
      if (!portRace || attempt >= PORT_ATTEMPTS) {
        removeDir();
        unregister();
        throw error;
      }
    }
  }
  current = child;

  let live: LifelineProcess = child;
  let stopping: Promise<void> | undefined;
  let restarting: Promise<void> = Promise.resolve();

  const restartOnce = async (wipe: boolean): Promise<void> => {
    if (stopping !== undefined) throw new WardenError('redis_stopped', 'restart: the redis server was stopped');
    if (!wipe) {
      const reply = await redisCommand(port, ['SAVE'], { timeoutMs });
      if (reply !== '+OK') throw new WardenError('redis_save_failed', `restart: SAVE answered ${reply}`);
    }
    live.kill();
    await live.exited;
    if (wipe) rmSync(join(dir, 'dump.rdb'), { force: true });
    live = await launch(binary, port, dir, ownDir, timeoutMs);
    current = live;
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return live.pid;
    },
    restart(restartOptions: { wipe: boolean }) {
      if (typeof restartOptions?.wipe !== 'boolean') {
        return Promise.reject(new ValidationError('infra_option_invalid', 'restart: options.wipe must be a boolean'));
      }
      // Chaos tests may fire restarts back to back; run them one after another, never two
      // redis-server processes racing for the same port.
      const next = restarting.catch(() => undefined).then(() => restartOnce(restartOptions.wipe));
      restarting = next;
      return next;
    },
    stop() {
      stopping ??= (async () => {
        await restarting.catch(() => undefined);
        live.kill();
        await live.exited;
        removeDir();
        unregister();
      })();
      return stopping;
    },
  };
}
