/** Every setting warden reads, with its documented default. */
export interface WardenConfig {
  /** Names this deployment in metrics and logs. */
  service: string;
  /** Number of partitions (SQS queues). 64 in production, fewer locally. Changing it re-maps records. */
  partitions: number;
  aws: {
    region: string;
    /** Local emulator endpoints; absent in production (the SDK resolves AWS endpoints). */
    endpoints: { dynamodb?: string; sqs?: string; s3?: string };
  };
  redis: { url: string };
  tables: { jobs: string; fences: string; access: string };
  queues: {
    /** Partition p's queue is `${prefix}${p}`; DLQs are `${prefix}dlq-transient` / `-permanent`. */
    prefix: string;
    visibilityTimeoutS: number;
    waitTimeS: number;
    /** URLs are resolved from names at start unless given here (tests, cross-account). */
    accountUrl?: string;
  };
  bucket: string;
  llm: {
    name: string;
    baseUrl: string;
    /** Read the key from this environment variable; keys never sit in config files. */
    apiKeyEnv?: string;
    model: string;
    /** Total budget of one call; 60 s by default like the providers' own gateways. */
    timeoutMs: number;
    connectTimeoutMs: number;
    firstByteTimeoutMs: number;
    connections: number;
    maxAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
  };
  recordStore: { baseUrl: string; tokenEnv?: string; timeoutMs: number; connections: number; maxConflictRetries: number };
  actor: {
    /** Jobs one partition actor keeps in flight. */
    concurrency: number;
    /**
     * Bulk jobs one actor may hold before their LLM call starts (0: a quarter of concurrency);
     * more bulk messages go back to the queue for a few seconds, so interactive work finds slots.
     */
    bulkWaiting: number;
  };
  supervisor: {
    /** SIGTERM drain budget: in-flight jobs may finish within it, the rest are checkpointed and released. */
    drainTimeoutMs: number;
    /** Budget for handing one partition to another member during rebalancing. */
    handoffTimeoutMs: number;
  };
  leases: {
    /** Partition lease TTL; renewed every third of it. A dead owner's partitions move after it. */
    ttlMs: number;
    /** How often a supervisor heartbeats its membership and rebalances. */
    rebalanceIntervalMs: number;
    /** A member not heard from for this long is no longer counted in the fair share. */
    memberTtlMs: number;
  };
  /** One fleet-wide limiter for the configured provider and model (requests and tokens per minute). */
  limiter: {
    enabled: boolean;
    rpm: number;
    tpm: number;
    /** Capacity kept for interactive jobs: bulk (backfill) jobs only use what lies above it. */
    bulkReserveFraction: number;
    /** The most of the rates one tenant (base) may take; 1 = no cap. */
    tenantShare: number;
  };
  /** Fleet-wide circuit breaker for the provider: while open, jobs wait (they do not fail). */
  breaker: { enabled: boolean; failureRateThreshold: number; minimumRequests: number; windowMs: number; bucketMs: number; openMs: number };
  /** Envelope encryption of prompt context, inputs and results: a data key per bounded run of objects. */
  crypto: {
    /** 'kms' in production; 'local' reads (or creates, mode 0600) a 32-byte key file. */
    kek: 'local' | 'kms';
    keyFile: string;
    kmsKeyId?: string;
    /** Unwrapped data keys kept in memory (LRU), so hot paths do not unwrap again. */
    cacheSize: number;
    /** Payloads one data key seals before a fresh one is minted (one KMS call); 1 = a key per payload. */
    dataKeyMaxMessages: number;
    /** Age after which a data key seals nothing more, in ms. */
    dataKeyMaxAgeMs: number;
  };
  /**
   * Worker threads for per-job CPU work (prompt rendering, token estimation); 0 = inline.
   * `niceness` (0-19) lowers the threads' scheduling priority below the event loop's.
   */
  cpu: { threads: number; maxQueue: number; niceness: number };
  ingest: { host: string; port: number };
  metrics: { namespace: string; /** '-' for stdout, else a file path. */ output: string; flushIntervalMs: number };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  prompts: { dir: string };
}

const str = { type: 'string', minLength: 1 } as const;
const int = (minimum: number, maximum: number, def: number) => ({ type: 'integer', minimum, maximum, default: def }) as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['redis', 'llm', 'recordStore'],
  properties: {
    service: { ...str, default: 'warden' },
    partitions: int(1, 1024, 64),
    aws: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        region: { ...str, default: 'us-east-1' },
        endpoints: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: { dynamodb: str, sqs: str, s3: str },
        },
      },
    },
    redis: { type: 'object', additionalProperties: false, required: ['url'], properties: { url: str } },
    tables: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        jobs: { ...str, default: 'warden-jobs' },
        fences: { ...str, default: 'warden-fences' },
        access: { ...str, default: 'warden-access' },
      },
    },
    queues: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        prefix: { ...str, default: 'warden-p' },
        visibilityTimeoutS: int(5, 43200, 20),
        waitTimeS: int(0, 20, 20),
        accountUrl: str,
      },
    },
    bucket: { ...str, default: 'warden-payloads' },
    llm: {
      type: 'object',
      additionalProperties: false,
      required: ['baseUrl', 'model'],
      properties: {
        name: { ...str, default: 'openai' },
        baseUrl: str,
        apiKeyEnv: str,
        model: str,
        timeoutMs: int(100, 600000, 60000),
        connectTimeoutMs: int(100, 60000, 5000),
        firstByteTimeoutMs: int(100, 600000, 60000),
        connections: int(1, 65536, 1024),
        maxAttempts: int(1, 100, 5),
        backoffBaseMs: int(1, 600000, 1000),
        backoffMaxMs: int(1, 3600000, 60000),
      },
    },
    recordStore: {
      type: 'object',
      additionalProperties: false,
      required: ['baseUrl'],
      properties: {
        baseUrl: str,
        tokenEnv: str,
        timeoutMs: int(100, 600000, 10000),
        connections: int(1, 65536, 256),
        maxConflictRetries: int(0, 100, 5),
      },
    },
    actor: { type: 'object', additionalProperties: false, default: {}, properties: { concurrency: int(1, 100000, 64), bulkWaiting: int(0, 100000, 0) } },
    supervisor: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { drainTimeoutMs: int(0, 3600000, 90000), handoffTimeoutMs: int(0, 3600000, 30000) },
    },
    leases: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { ttlMs: int(300, 600000, 10000), rebalanceIntervalMs: int(50, 600000, 1000), memberTtlMs: int(300, 600000, 10000) },
    },
    limiter: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        rpm: int(1, 100000000, 10000),
        tpm: int(1, 10000000000, 2000000),
        bulkReserveFraction: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.2 },
        tenantShare: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.25 },
      },
    },
    breaker: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        failureRateThreshold: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.5 },
        minimumRequests: int(1, 1000000, 20),
        windowMs: int(1000, 3600000, 60000),
        bucketMs: int(100, 3600000, 10000),
        openMs: int(100, 3600000, 30000),
      },
    },
    crypto: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        kek: { enum: ['local', 'kms'], default: 'local' },
        keyFile: { ...str, default: '/etc/warden/kek.key' },
        kmsKeyId: str,
        cacheSize: int(1, 1000000, 1024),
        dataKeyMaxMessages: int(1, 1000000, 1000),
        dataKeyMaxAgeMs: int(1000, 86400000, 300000),
      },
    },
    cpu: { type: 'object', additionalProperties: false, default: {}, properties: { threads: int(0, 256, 1), maxQueue: int(1, 1000000, 100000), niceness: int(0, 19, 10) } },
    ingest: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { host: { ...str, default: '127.0.0.1' }, port: int(0, 65535, 8080) },
    },
    metrics: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        namespace: { ...str, default: 'Warden' },
        output: { ...str, default: '-' },
        flushIntervalMs: int(0, 600000, 10000),
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' } },
    },
    prompts: { type: 'object', additionalProperties: false, default: {}, properties: { dir: { ...str, default: 'config/prompts' } } },
  },
} as const;
