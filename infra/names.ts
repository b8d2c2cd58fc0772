import { DEFAULT_RESOURCE_NAMES, DLQ_PERMANENT_SUFFIX, DLQ_TRANSIENT_SUFFIX } from '../src/stack/infra/resource-names.ts';

/**
 * Every name one deployment uses, derived from its service name. Names are fixed strings (not
 * CloudFormation-generated) because the config on each instance, the dashboards and the IAM
 * policy all have to agree on them, and because the launch template must name the Auto Scaling
 * group that references it (a Ref would be a dependency cycle).
 */
export interface DeploymentNames {
  service: string;
  partitions: number;
  /** `${queuePrefix}${p}` per partition, `${queuePrefix}dlq-transient` / `-permanent`: the runtime's own rule. */
  queuePrefix: string;
  partitionQueues: string[];
  dlqTransient: string;
  dlqPermanent: string;
  jobsTable: string;
  fencesTable: string;
  /** Payload access log (one entry per payload read), kept 180 days. */
  accessTable: string;
  /** ElastiCache replication group id; its nodes are `${redis}-001`, `-002`. */
  redis: string;
  autoScalingGroup: string;
  lifecycleHook: string;
  launchTemplate: string;
  logGroupSupervisor: string;
  logGroupEmf: string;
  agentConfigParameter: string;
  dashboard: string;
  /** SSM documents are `${ssmDocumentPrefix}-<name>`. */
  ssmDocumentPrefix: string;
  alarmPrefix: string;
}

const SERVICE = /^[a-z][a-z0-9-]{1,30}$/;

export function deploymentNames(service = 'warden', partitions = 64): DeploymentNames {
  if (!SERVICE.test(service)) throw new Error(`service must match ${SERVICE}, got ${JSON.stringify(service)}`);
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1000) throw new Error(`partitions must be 1..1000, got ${partitions}`);
  // The default deployment keeps the runtime's default names, so a config without overrides fits it.
  const isDefault = service === 'warden';
  const queuePrefix = isDefault ? DEFAULT_RESOURCE_NAMES.queuePrefix : `${service}-p`;
  return {
    service,
    partitions,
    queuePrefix,
    partitionQueues: Array.from({ length: partitions }, (_, p) => `${queuePrefix}${p}`),
    dlqTransient: `${queuePrefix}${DLQ_TRANSIENT_SUFFIX}`,
    dlqPermanent: `${queuePrefix}${DLQ_PERMANENT_SUFFIX}`,
    jobsTable: isDefault ? DEFAULT_RESOURCE_NAMES.jobsTable : `${service}-jobs`,
    fencesTable: isDefault ? DEFAULT_RESOURCE_NAMES.fencesTable : `${service}-fences`,
    accessTable: `${service}-access`,
    redis: `${service}-redis`,
    autoScalingGroup: `${service}-workers`,
    lifecycleHook: `${service}-drain`,
    launchTemplate: `${service}-workers`,
    logGroupSupervisor: `/${service}/supervisor`,
    logGroupEmf: `/${service}/emf`,
    agentConfigParameter: `/${service}/cloudwatch-agent`,
    dashboard: `${service}-operations`,
    ssmDocumentPrefix: service,
    alarmPrefix: service,
  };
}
