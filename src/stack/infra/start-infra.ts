import { performance } from 'node:perf_hooks';
import { ValidationError } from '../../errors.ts';
import { makeAwsClients } from '../../runtime/aws/aws-clients.ts';
import { startDynaliteServer, type DynaliteServer } from './dynalite-server.ts';
import { startFauxqsServer, type FauxqsServer } from './fauxqs-server.ts';
import { provisionResources, type QueueUrls } from './provision.ts';
import { startRedisServer, type RedisServer } from './redis-server.ts';
import { resolveResourceNames, type ResolvedResourceNames, type ResourceNames } from './resource-names.ts';
import { checkServerMode, type ServerMode } from './server-mode.ts';

export interface StartInfraOptions {
  /** Partition queues to create (1..1000). */
  partitions: number;
  /** Table, queue and bucket names and queue settings; defaults as in ResourceNames. */
  names?: Omit<ResourceNames, 'partitions'>;
  /**
   * Where dynalite and fauxqs run, both or each. Default 'in-process' (fastest start, for tests).
   * Under load prefer 'child' for dynalite: in-process it costs this event loop ~0.3-0.5 ms of
   * CPU per request on top of the SDK's, and 'child' lets it use the second core.
   */
  mode?: ServerMode | { dynalite?: ServerMode; fauxqs?: ServerMode };
}

export interface Infra {
  redis: RedisServer;
  /** The emulators themselves, for chaos tests (pid to SIGSTOP, stop to kill one). */
  dynalite: DynaliteServer;
  fauxqs: FauxqsServer;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  s3Endpoint: string;
  region: 'us-east-1';
  queues: QueueUrls;
  /** The names actually provisioned, defaults applied. */
  names: ResolvedResourceNames;
  /** Wall time startInfra took, servers and provisioning. */
  startupMs: number;
  /** Stops all three servers. Idempotent; also happens on process exit. */
  stop(): Promise<void>;
}

const REGION = 'us-east-1';

/**
 * The AWS side of the local stack: a real redis-server, dynalite and fauxqs on free 127.0.0.1
 * ports, provisioned exactly as production is (provisionResources), torn down by stop().
 */
export async function startInfra(options: StartInfraOptions): Promise<Infra> {
  if (options === null || typeof options !== 'object') {
    throw new ValidationError('infra_option_invalid', 'startInfra: options must be an object with partitions');
  }
  const started = performance.now();
  const modes = typeof options.mode === 'object' && options.mode !== null
    ? {
        dynalite: checkServerMode(options.mode.dynalite, 'startInfra: options.mode.dynalite'),
        fauxqs: checkServerMode(options.mode.fauxqs, 'startInfra: options.mode.fauxqs'),
      }
    : { dynalite: checkServerMode(options.mode, 'startInfra: options.mode'), fauxqs: checkServerMode(options.mode, 'startInfra: options.mode') };
  const names = resolveResourceNames({ ...options.names, partitions: options.partitions });

  // In parallel: redis-server is a fork+exec, the emulators load modules (or fork in child mode).
  const results = await Promise.allSettled([
    startRedisServer(),
    startDynaliteServer({ mode: modes.dynalite }),
    startFauxqsServer({ mode: modes.fauxqs, region: REGION }),
  ]);
  const servers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(servers.map((server) => server.stop()));
  };
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await stopAll();
    throw failed.reason;
  }
  const [redis, dynalite, fauxqs] = servers as [RedisServer, DynaliteServer, FauxqsServer];

  const clients = makeAwsClients({
    region: REGION,
    endpoints: { dynamodb: dynalite.endpoint, sqs: fauxqs.endpoint, s3: fauxqs.endpoint },
  });
  let queues: QueueUrls;
  try {
    queues = await provisionResources(clients, names);
  } catch (error) {
    await stopAll();
    throw error;
  } finally {
    clients.destroy();
  }

  let stopping: Promise<void> | undefined;
  return {
    redis,
    dynalite,
    fauxqs,
    dynamodbEndpoint: dynalite.endpoint,
    sqsEndpoint: fauxqs.endpoint,
    s3Endpoint: fauxqs.endpoint,
    region: REGION,
    queues,
    names,
    startupMs: Math.round(performance.now() - started),
    stop() {
      stopping ??= stopAll();
      return stopping;
    },
  };
}
