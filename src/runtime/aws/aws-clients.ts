import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../errors.ts';

export interface AwsEndpoints {
  /** e.g. http://127.0.0.1:<port> of dynalite. Absent: the real regional AWS endpoint. */
  dynamodb?: string;
  /** e.g. http://127.0.0.1:<port> of fauxqs. Absent: the real regional AWS endpoint. */
  sqs?: string;
  /** e.g. http://127.0.0.1:<port> of fauxqs (path-style). Absent: the real regional AWS endpoint. */
  s3?: string;
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsClientsOptions {
  region: string;
  endpoints?: AwsEndpoints;
  /**
   * Default: for a service with a local endpoint, static dummy keys (the emulators accept any);
   * for one without, the SDK's default provider chain (instance role on EC2).
   */
  credentials?: AwsCredentials;
  /** SDK attempts per call, first try included. Default 3 (the SDK's standard retry mode). */
  maxAttempts?: number;
  /**
   * Sockets per client. Default 256: every partition's SQS long poll holds one for up to 20 s,
   * and the SDK's default of 50 would queue deletes and checkpoints behind them.
   */
  maxSockets?: number;
}

export interface AwsClients {
  ddb: DynamoDBClient;
  /** Document client over `ddb` (plain JS values, undefined attributes dropped). */
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  s3: S3Client;
  /** Closes every client's sockets. Idempotent. */
  destroy(): void;
}

const LOCAL_CREDENTIALS: AwsCredentials = { accessKeyId: 'warden-local', secretAccessKey: 'warden-local' };

function checkEndpoint(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    try {
      const url = new URL(value);
      if (url.protocol === 'http:' || url.protocol === 'https:') return value;
    } catch {
      // Falls through to the error naming the field.
    }
  }
  throw new ValidationError('infra_option_invalid', `makeAwsClients: ${field} must be an http(s) URL, got ${JSON.stringify(value)}`);
}

function checkPositiveInteger(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  throw new ValidationError('infra_option_invalid', `makeAwsClients: ${field} must be a positive integer, got ${JSON.stringify(value)}`);
}

export function makeAwsClients(options: AwsClientsOptions): AwsClients {
  if (typeof options?.region !== 'string' || options.region === '') {
    throw new ValidationError('infra_option_invalid', 'makeAwsClients: options.region must be a non-empty string');
  }
  const { region, credentials } = options;
  if (credentials !== undefined && (typeof credentials.accessKeyId !== 'string' || typeof credentials.secretAccessKey !== 'string')) {
    throw new ValidationError('infra_option_invalid', 'makeAwsClients: options.credentials needs accessKeyId and secretAccessKey strings');
  }
  const endpoints = {
    dynamodb: checkEndpoint(options.endpoints?.dynamodb, 'options.endpoints.dynamodb'),
    sqs: checkEndpoint(options.endpoints?.sqs, 'options.endpoints.sqs'),
    s3: checkEndpoint(options.endpoints?.s3, 'options.endpoints.s3'),
  };
  const maxAttempts = checkPositiveInteger(options.maxAttempts, 'options.maxAttempts', 3);
  const maxSockets = checkPositiveInteger(options.maxSockets, 'options.maxSockets', 256);

  // Only keys that are set: an explicit `endpoint: undefined` is fine for the SDK, but keeping the
  // production config literally the SDK defaults makes "absent means real AWS" easy to trust.
  const common = (endpoint: string | undefined, requestTimeout: number) => ({
    region,
    maxAttempts,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(credentials !== undefined ? { credentials } : endpoint !== undefined ? { credentials: LOCAL_CREDENTIALS } : {}),
    requestHandler: {
      // A dead endpoint fails in 3 s instead of hanging a checkpoint; callers add AbortSignals.
      connectionTimeout: 3_000,
      requestTimeout,
      throwOnRequestTimeout: true,
      httpAgent: { keepAlive: true, maxSockets },
      httpsAgent: { keepAlive: true, maxSockets },
    },
  });

  const ddb = new DynamoDBClient(common(endpoints.dynamodb, 10_000));
  const doc = DynamoDBDocumentClient.from(ddb, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
  // 25 s: longer than the longest SQS long poll (20 s), or every idle poll would time out.
  const sqs = new SQSClient(common(endpoints.sqs, 25_000));
  // Path-style: a local endpoint has no <bucket>.host DNS name; real S3 keeps virtual hosts.
  const s3 = new S3Client({ ...common(endpoints.s3, 30_000), ...(endpoints.s3 !== undefined ? { forcePathStyle: true } : {}) });

  let destroyed = false;
  return {
    ddb,
    doc,
    sqs,
    s3,
    destroy() {
      if (destroyed) return;
      destroyed = true;
      // The document client shares ddb's handler; destroying ddb closes its sockets.
      ddb.destroy();
      sqs.destroy();
      s3.destroy();
    },
  };
}
