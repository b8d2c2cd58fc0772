import { ValidationError } from '../../errors.ts';

/** What provisionResources creates; every field but `partitions` has a documented default. */
export interface ResourceNames {
  /** Number of partition queues, `${queuePrefix}0` .. `${queuePrefix}${partitions - 1}`. 1..1000. */
  partitions: number;
  /** DynamoDB jobs table. Default "warden-jobs". */
  jobsTable?: string;
  /** DynamoDB fencing-token table. Default "warden-fences". */
  fencesTable?: string;
  /** The append-only payload access log. */
  accessTable?: string;
  /** SQS name prefix of partition queues and DLQs. Default "warden-p". */
  queuePrefix?: string;
  /** S3 payload bucket. Default "warden-payloads". */
  bucket?: string;
  /** Receives of one message before SQS moves it to the permanent DLQ. Default 10. */
  maxReceiveCount?: number;
  /** Partition queue visibility timeout in seconds. Default 30. */
  visibilityTimeoutS?: number;
}

export type ResolvedResourceNames = Required<ResourceNames>;

export const DEFAULT_RESOURCE_NAMES = {
  jobsTable: 'warden-jobs',
  fencesTable: 'warden-fences',
  accessTable: 'warden-access',
  queuePrefix: 'warden-p',
  bucket: 'warden-payloads',
  maxReceiveCount: 10,
  visibilityTimeoutS: 20,
} as const satisfies Omit<ResolvedResourceNames, 'partitions'>;

/** Suffixes of the two shared dead-letter queues, after the prefix. */
export const DLQ_TRANSIENT_SUFFIX = 'dlq-transient';
export const DLQ_PERMANENT_SUFFIX = 'dlq-permanent';

const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;
// SQS: 1..80 chars of alphanumerics, hyphens and underscores for the whole name.
const QUEUE_PREFIX = /^[a-zA-Z0-9_-]{1,66}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function fail(field: string, rule: string, value: unknown): never {
  throw new ValidationError('infra_option_invalid', `names.${field} ${rule}, got ${JSON.stringify(value)}`, { field });
}

function integerIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  return fail(field, `must be an integer in ${min}..${max}`, value);
}

function matching(field: string, value: unknown, pattern: RegExp, rule: string): string {
  if (typeof value === 'string' && pattern.test(value)) return value;
  return fail(field, rule, value);
}

/** Applies the defaults and checks every field against the AWS naming rules. */
export function resolveResourceNames(names: ResourceNames): ResolvedResourceNames {
  if (names === null || typeof names !== 'object') fail('', 'must be an object', names);
  // An explicit `undefined` (e.g. from an unset config field) means "use the default".
  const given = Object.fromEntries(Object.entries(names).filter(([, value]) => value !== undefined));
  const merged = { ...DEFAULT_RESOURCE_NAMES, ...given } as Record<keyof ResolvedResourceNames, unknown>;
  const prefixRule = 'must be 1..66 letters, digits, "-" or "_" (the longest queue name must fit 80)';
  return {
    partitions: integerIn('partitions', merged.partitions, 1, 1000),
    jobsTable: matching('jobsTable', merged.jobsTable, TABLE_NAME, 'must be 3..255 of [a-zA-Z0-9_.-]'),
    fencesTable: matching('fencesTable', merged.fencesTable, TABLE_NAME, 'must be 3..255 of [a-zA-Z0-9_.-]'),
    accessTable: matching('accessTable', merged.accessTable, TABLE_NAME, 'must be 3..255 of [a-zA-Z0-9_.-]'),
    queuePrefix: matching('queuePrefix', merged.queuePrefix, QUEUE_PREFIX, prefixRule),
    bucket: matching('bucket', merged.bucket, BUCKET_NAME, 'must be a 3..63 character S3 bucket name (lowercase, digits, "." and "-")'),
    maxReceiveCount: integerIn('maxReceiveCount', merged.maxReceiveCount, 1, 1000),
    visibilityTimeoutS: integerIn('visibilityTimeoutS', merged.visibilityTimeoutS, 0, 43_200),
  };
}
