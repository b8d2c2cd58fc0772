import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../src/config/config-schema.ts';
import { accessTableSchema } from '../src/runtime/access-log/access-table.ts';
import { fencesTableSchema, jobsTableSchema, JOBS_TTL_ATTRIBUTE } from '../src/stack/infra/provision-tables.ts';
import { DEFAULT_RESOURCE_NAMES } from '../src/stack/infra/resource-names.ts';
import { buildAlarms } from './alarms.ts';
import { base64, getAtt, ref, resource, sub, type PolicyStatement, type Resource, type ResourceProperties, type Template, type Value } from './cfn.ts';
import { cloudWatchAgentConfig } from './cloudwatch-agent.ts';
import { buildDashboard } from './dashboards.ts';
import { instanceConfig, INSTANCE_PATHS } from './instance-config.ts';
import { wardenMetric } from './metrics.ts';
import { deploymentNames, type DeploymentNames } from './names.ts';
import { userDataScript } from './user-data.ts';

/**
 * The warden deployment as one CloudFormation template, built by a function: queues, tables,
 * payload bucket, Redis, KMS key, fleet (launch template, Auto Scaling group, lifecycle hook,
 * backlog-per-instance scaling), least-privilege instance role, SSM documents, dashboard and
 * alarms. `npm run synth` writes it to dist/infra/; tests/deploy asserts its rules.
 *
 * Table schemas come from the same functions the local stack provisions with, and names from the
 * runtime's naming rule, so the template cannot drift from what the code expects.
 */

export interface StackOptions {
  /** Names everything; `warden` keeps the runtime's default names. */
  service?: string;
  /** Partition queues. 64 in production. Changing it re-maps records: a migration, not an update. */
  partitions?: number;
  /** Partition queue visibility timeout (s). The actor extends it every third while a job runs. */
  visibilityTimeoutS?: number;
  /** Receives before SQS moves a message to the permanent DLQ (the runtime's own limit is lower). */
  maxReceiveCount?: number;
  /** The supervisor's drain budget (ms); the lifecycle hook and systemd's stop timeout exceed it. */
  drainTimeoutMs?: number;
  /** Jobs in flight per partition actor. */
  actorConcurrency?: number;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SSM_DIR = join(ROOT, 'ssm');

/** The lifecycle hook waits this long between heartbeats; the watcher heartbeats every 30 s. */
export const LIFECYCLE_HEARTBEAT_TIMEOUT_S = 180;
/** SQS maximum: a message must outlive any outage we expect to recover from. */
const RETENTION_S = 1_209_600;

const tags = (names: DeploymentNames, extra: Record<string, string> = {}) =>
  Object.entries({ Service: names.service, ...extra }).map(([Key, Value]) => ({ Key, Value }));

function ssmDocuments(): Array<{ name: string; content: Record<string, unknown> }> {
  return readdirSync(SSM_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ name: file.slice(0, -'.json'.length), content: JSON.parse(readFileSync(join(SSM_DIR, file), 'utf8')) as Record<string, unknown> }));
}

const logicalId = (prefix: string, name: string) =>
  prefix +
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');

export function buildTemplate(options: StackOptions = {}): Template {
  const names = deploymentNames(options.service ?? 'warden', options.partitions ?? 64);
  const visibilityTimeoutS = options.visibilityTimeoutS ?? 30;
  const maxReceiveCount = options.maxReceiveCount ?? DEFAULT_RESOURCE_NAMES.maxReceiveCount;
  const drainTimeoutMs = options.drainTimeoutMs ?? configSchema.properties.supervisor.properties.drainTimeoutMs.default;
  const actorConcurrency = options.actorConcurrency ?? 32;
  const R: Record<string, Resource> = {};
  const keyArn = getAtt('Key', 'Arn');
  const account = '${AWS::AccountId}';
  const arn = (service: string, rest: string) => sub(`arn:\${AWS::Partition}:${service}:\${AWS::Region}:${account}:${rest}`);

  // --- KMS: one customer-managed key for data at rest in every service here. ---
  const keyPolicy: PolicyStatement[] = [
    { Sid: 'AccountAdministers', Effect: 'Allow', Principal: { AWS: sub(`arn:\${AWS::Partition}:iam::${account}:root`) }, Action: 'kms:*', Resource: '*' },
    {
      Sid: 'CloudWatchLogsEncrypt',
      Effect: 'Allow',
      Principal: { Service: sub('logs.${AWS::Region}.amazonaws.com') },
      Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      Resource: '*',
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:${account}:log-group:/${names.service}/*`) } },
    },
    {
      // Launching instances with CMK-encrypted volumes goes through the Auto Scaling service-linked role.
      Sid: 'AutoScalingUsesKeyForVolumes',
      Effect: 'Allow',
      Principal: { AWS: sub(`arn:\${AWS::Partition}:iam::${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`) },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      Resource: '*',
    },
    {
      Sid: 'AutoScalingGrantsForVolumes',
      Effect: 'Allow',
      Principal: { AWS: sub(`arn:\${AWS::Partition}:iam::${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`) },
      Action: 'kms:CreateGrant',
      Resource: '*',
      Condition: { Bool: { 'kms:GrantIsForAWSResource': true } },
    },
    {
      Sid: 'AlarmsPublishToEncryptedTopic',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
    },
    {
      Sid: 'CloudTrailEncryptsPayloadAccessLog',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: ['kms:GenerateDataKey*', 'kms:DescribeKey'],
      Resource: '*',
      Condition: { StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': sub(`arn:\${AWS::Partition}:cloudtrail:*:${account}:trail/*`) } },
    },
  ];
  R['Key'] = resource(
    'AWS::KMS::Key',
    { Description: `${names.service}: jobs, fences, payloads, queues, Redis, logs, volumes`, EnableKeyRotation: true, PendingWindowInDays: 30, KeyPolicy: { Version: '2012-10-17', Statement: keyPolicy }, Tags: tags(names) },
    { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' },
  );
  R['KeyAlias'] = resource('AWS::KMS::Alias', { AliasName: `alias/${names.service}`, TargetKeyId: ref('Key') });

  // --- SQS: partition queues with redrive, two dead-letter queues. ---
  const queue = (name: string, extra: Partial<ResourceProperties['AWS::SQS::Queue']>, role: string): Resource<'AWS::SQS::Queue'> =>
    resource(
      'AWS::SQS::Queue',
      { QueueName: name, MessageRetentionPeriod: RETENTION_S, KmsMasterKeyId: keyArn, KmsDataKeyReusePeriodSeconds: 3600, Tags: tags(names, { Role: role }), ...extra },
      { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' },
    );
  // The runtime sends exhausted jobs to the transient DLQ itself; nothing redrives into it.
  R['DlqTransient'] = queue(names.dlqTransient, { RedriveAllowPolicy: { redrivePermission: 'denyAll' } }, 'dead-letter');
  R['DlqPermanent'] = queue(names.dlqPermanent, { RedriveAllowPolicy: { redrivePermission: 'allowAll' } }, 'dead-letter');
  names.partitionQueues.forEach((name, p) => {
    R[`Partition${p}`] = queue(
      name,
      {
        VisibilityTimeout: visibilityTimeoutS,
        ReceiveMessageWaitTimeSeconds: 20,
        RedrivePolicy: { deadLetterTargetArn: getAtt('DlqPermanent', 'Arn'), maxReceiveCount },
      },
      'partition',
    );
  });

  // --- DynamoDB: jobs (180-day TTL), fences (never expire: tokens must only grow), access log. ---
  const table = (id: string, schema: ReturnType<typeof jobsTableSchema>, ttl: string | undefined) => {
    R[id] = resource(
      'AWS::DynamoDB::Table',
      {
        TableName: schema.TableName as string,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: (schema.AttributeDefinitions ?? []).map((a) => ({ AttributeName: a.AttributeName as string, AttributeType: a.AttributeType as 'S' })),
        KeySchema: (schema.KeySchema ?? []).map((k) => ({ AttributeName: k.AttributeName as string, KeyType: k.KeyType as 'HASH' })),
        ...(schema.GlobalSecondaryIndexes
          ? {
              GlobalSecondaryIndexes: schema.GlobalSecondaryIndexes.map((g) => ({
                IndexName: g.IndexName as string,
                KeySchema: (g.KeySchema ?? []).map((k) => ({ AttributeName: k.AttributeName as string, KeyType: k.KeyType as 'HASH' })),
                Projection: { ProjectionType: (g.Projection?.ProjectionType ?? 'ALL') as 'ALL' },
              })),
            }
          : {}),
        ...(ttl ? { TimeToLiveSpecification: { AttributeName: ttl, Enabled: true } } : {}),
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
        DeletionProtectionEnabled: true,
        Tags: tags(names),
      },
      { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' },
    );
  };
  table('JobsTable', jobsTableSchema(names.jobsTable), JOBS_TTL_ATTRIBUTE);
  table('FencesTable', fencesTableSchema(names.fencesTable), undefined);
  table('AccessTable', accessTableSchema(names.accessTable), 'expires_at');

  // --- S3: payloads (SSE-KMS, 30 days), access logs (SSE-S3: the only encryption S3 log delivery takes). ---
  const blockPublic = { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true };
  R['AccessLogBucket'] = resource(
    'AWS::S3::Bucket',
    {
      BucketName: sub(`${names.service}-access-logs-${account}-\${AWS::Region}`),
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: blockPublic,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: [{ Id: 'keep-access-logs-400-days', Status: 'Enabled', ExpirationInDays: 400, NoncurrentVersionExpiration: { NoncurrentDays: 30 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }],
      },
      Tags: tags(names),
    },
    { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' },
  );
  R['PayloadBucket'] = resource(
    'AWS::S3::Bucket',
    {
      BucketName: sub(`${names.service}-payloads-${account}-\${AWS::Region}`),
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn }, BucketKeyEnabled: true }] },
      PublicAccessBlockConfiguration: blockPublic,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: [
          { Id: 'payloads-30-days', Status: 'Enabled', ExpirationInDays: 30, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
        ],
      },
      LoggingConfiguration: { DestinationBucketName: ref('AccessLogBucket'), LogFilePrefix: 's3-access/payloads/' },
      Tags: tags(names),
    },
    { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' },
  );
  const denyInsecure = (bucket: string): PolicyStatement => ({
    Sid: 'DenyInsecureTransport',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [getAtt(bucket, 'Arn'), sub(`\${${bucket}.Arn}/*`)],
    Condition: { Bool: { 'aws:SecureTransport': false } },
  });
  R['PayloadBucketPolicy'] = resource('AWS::S3::BucketPolicy', { Bucket: ref('PayloadBucket'), PolicyDocument: { Version: '2012-10-17', Statement: [denyInsecure('PayloadBucket')] } });
  R['AccessLogBucketPolicy'] = resource('AWS::S3::BucketPolicy', {
    Bucket: ref('AccessLogBucket'),
    PolicyDocument: {
      Version: '2012-10-17',
      Statement: [
        denyInsecure('AccessLogBucket'),
        {
          Sid: 'S3ServerAccessLogs',
          Effect: 'Allow',
          Principal: { Service: 'logging.s3.amazonaws.com' },
          Action: 's3:PutObject',
          Resource: sub('${AccessLogBucket.Arn}/s3-access/*'),
          Condition: { ArnLike: { 'aws:SourceArn': getAtt('PayloadBucket', 'Arn') }, StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
        },
        { Sid: 'CloudTrailAclCheck', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl', Resource: getAtt('AccessLogBucket', 'Arn') },
        {
          Sid: 'CloudTrailWrite',
          Effect: 'Allow',
          Principal: { Service: 'cloudtrail.amazonaws.com' },
          Action: 's3:PutObject',
          Resource: sub(`\${AccessLogBucket.Arn}/cloudtrail/AWSLogs/${account}/*`),
          Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
        },
      ],
    },
  });
  // Every read of a payload (PII) recorded: S3 server access logs are best effort, CloudTrail data events are not.
  R['PayloadAccessTrail'] = resource(
    'AWS::CloudTrail::Trail',
    {
      TrailName: `${names.service}-payload-access`,
      IsLogging: true,
      S3BucketName: ref('AccessLogBucket'),
      S3KeyPrefix: 'cloudtrail',
      KMSKeyId: keyArn,
      EnableLogFileValidation: true,
      IncludeGlobalServiceEvents: false,
      IsMultiRegionTrail: false,
      EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: false, DataResources: [{ Type: 'AWS::S3::Object', Values: [sub('${PayloadBucket.Arn}/')] }] }],
    },
    { DependsOn: ['AccessLogBucketPolicy'] },
  );

  // --- Network: the fleet has no ingress at all (operated through SSM); Redis only from the fleet. ---
  R['InstanceSecurityGroup'] = resource('AWS::EC2::SecurityGroup', {
    GroupDescription: `${names.service} workers: no ingress; HTTPS out (AWS APIs, LLM, record store), Redis to the cache`,
    VpcId: ref('VpcId'),
    SecurityGroupEgress: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0', Description: 'AWS APIs, LLM provider, record store' }],
    Tags: tags(names),
  });
  R['RedisSecurityGroup'] = resource('AWS::EC2::SecurityGroup', {
    GroupDescription: `${names.service} Redis: from the workers only`,
    VpcId: ref('VpcId'),
    SecurityGroupEgress: [{ IpProtocol: '-1', CidrIp: '127.0.0.1/32', Description: 'no egress' }],
    Tags: tags(names),
  });
  R['RedisIngressFromWorkers'] = resource('AWS::EC2::SecurityGroupIngress', {
    GroupId: ref('RedisSecurityGroup'),
    IpProtocol: 'tcp',
    FromPort: 6379,
    ToPort: 6379,
    SourceSecurityGroupId: ref('InstanceSecurityGroup'),
    Description: 'workers',
  });
  R['WorkersEgressToRedis'] = resource('AWS::EC2::SecurityGroupEgress', {
    GroupId: ref('InstanceSecurityGroup'),
    IpProtocol: 'tcp',
    FromPort: 6379,
    ToPort: 6379,
    DestinationSecurityGroupId: ref('RedisSecurityGroup'),
    Description: 'Redis',
  });

  // --- Redis: leases, membership, limiter. Multi-AZ with failover, TLS and AUTH, encrypted at rest. ---
  R['RedisAuthToken'] = resource('AWS::SecretsManager::Secret', {
    Name: `${names.service}/redis-auth-token`,
    Description: `${names.service} Redis AUTH token`,
    KmsKeyId: keyArn,
    GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
  });
  R['RedisSubnetGroup'] = resource('AWS::ElastiCache::SubnetGroup', { Description: `${names.service} Redis`, SubnetIds: ref('PrivateSubnetIds') });
  R['Redis'] = resource('AWS::ElastiCache::ReplicationGroup', {
    ReplicationGroupId: names.redis,
    ReplicationGroupDescription: `${names.service} leases, membership and limiter`,
    Engine: 'redis',
    EngineVersion: '7.1',
    CacheNodeType: ref('RedisNodeType'),
    NumCacheClusters: 2,
    AutomaticFailoverEnabled: true,
    MultiAZEnabled: true,
    TransitEncryptionEnabled: true,
    AtRestEncryptionEnabled: true,
    KmsKeyId: keyArn,
    AuthToken: sub('{{resolve:secretsmanager:${RedisAuthToken}:SecretString}}'),
    CacheSubnetGroupName: ref('RedisSubnetGroup'),
    SecurityGroupIds: [ref('RedisSecurityGroup')],
    Port: 6379,
    SnapshotRetentionLimit: 0,
    AutoMinorVersionUpgrade: true,
  });

  // --- Logs, agent config, alarm topic. ---
  R['SupervisorLogGroup'] = resource('AWS::Logs::LogGroup', { LogGroupName: names.logGroupSupervisor, RetentionInDays: 30, KmsKeyId: keyArn }, { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  R['EmfLogGroup'] = resource('AWS::Logs::LogGroup', { LogGroupName: names.logGroupEmf, RetentionInDays: 7, KmsKeyId: keyArn });
  R['AgentConfig'] = resource('AWS::SSM::Parameter', {
    Name: names.agentConfigParameter,
    Type: 'String',
    Description: `${names.service} CloudWatch agent configuration`,
    Value: JSON.stringify(cloudWatchAgentConfig(names)),
  });
  R['AlarmTopic'] = resource('AWS::SNS::Topic', { TopicName: `${names.service}-alarms`, KmsMasterKeyId: ref('Key') });

  // --- IAM: the instance role can do its job on its own resources and nothing else. ---
  const tableArns = ['JobsTable', 'FencesTable', 'AccessTable'].map((t) => getAtt(t, 'Arn'));
  const asgArn = sub(`arn:\${AWS::Partition}:autoscaling:\${AWS::Region}:${account}:autoScalingGroup:*:autoScalingGroupName/${names.autoScalingGroup}`);
  const instancePolicy: PolicyStatement[] = [
    {
      Sid: 'PartitionAndDeadLetterQueues',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:SendMessage', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'],
      Resource: arn('sqs', `${names.queuePrefix}*`),
    },
    {
      Sid: 'JobsTable',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:DescribeTable'],
      Resource: [getAtt('JobsTable', 'Arn'), sub('${JobsTable.Arn}/index/*')],
    },
    { Sid: 'FencesTable', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DescribeTable'], Resource: getAtt('FencesTable', 'Arn') },
    // Payload reads are appended, never changed: no UpdateItem, no DeleteItem.
    { Sid: 'AccessLogTable', Effect: 'Allow', Action: ['dynamodb:PutItem', 'dynamodb:Query'], Resource: getAtt('AccessTable', 'Arn') },
    {
      Sid: 'NoTableAdministration',
      Effect: 'Deny',
      Action: [
        'dynamodb:DeleteTable',
        'dynamodb:UpdateTable',
        'dynamodb:DeleteBackup',
        'dynamodb:RestoreTableFromBackup',
        'dynamodb:RestoreTableToPointInTime',
        'dynamodb:UpdateTimeToLive',
        'dynamodb:UpdateContinuousBackups',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
      ],
      Resource: [...tableArns, sub('${JobsTable.Arn}/*')],
    },
    { Sid: 'Payloads', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: sub('${PayloadBucket.Arn}/payloads/*') },
    // HeadBucket (self-check) needs ListBucket; limited to the payload prefix.
    { Sid: 'PayloadBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: getAtt('PayloadBucket', 'Arn'), Condition: { StringLike: { 's3:prefix': ['payloads/*', ''] } } },
    {
      Sid: 'KeyThroughServices',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      Resource: keyArn,
      Condition: {
        StringEquals: {
          'kms:ViaService': ['sqs', 's3', 'dynamodb', 'secretsmanager'].map((svc) => sub(`${svc}.\${AWS::Region}.amazonaws.com`)),
        },
      },
    },
    // Envelope encryption of payloads by the runtime itself (data keys wrapped by this key).
    { Sid: 'PayloadDataKeys', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: keyArn },
    { Sid: 'BootSecrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: [ref('RedisAuthToken'), ref('LlmApiKeySecretArn')] },
    { Sid: 'OwnLifecycleAction', Effect: 'Allow', Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'], Resource: asgArn },
    {
      Sid: 'ShipLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      Resource: [getAtt('SupervisorLogGroup', 'Arn'), getAtt('EmfLogGroup', 'Arn')],
    },
    { Sid: 'AgentMetrics', Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'CWAgent' } } },
    { Sid: 'AgentDimensions', Effect: 'Allow', Action: 'ec2:DescribeTags', Resource: '*' },
    { Sid: 'AgentConfig', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: arn('ssm', `parameter${names.agentConfigParameter}`) },
  ];
  R['InstanceRole'] = resource('AWS::IAM::Role', {
    Description: `${names.service} worker instances`,
    AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
    // Session Manager and Run Command: the only way in.
    ManagedPolicyArns: [sub('arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore')],
    Policies: [{ PolicyName: `${names.service}-worker`, PolicyDocument: { Version: '2012-10-17', Statement: instancePolicy } }],
  });
  R['InstanceProfile'] = resource('AWS::IAM::InstanceProfile', { Roles: [ref('InstanceRole')] });

  // --- Fleet. ---
  const config = instanceConfig({
    service: names.service,
    partitions: names.partitions,
    region: '${AWS::Region}',
    redisUrl: 'rediss://${Redis.PrimaryEndPoint.Address}:${Redis.PrimaryEndPoint.Port}',
    jobsTable: names.jobsTable,
    fencesTable: names.fencesTable,
    queuePrefix: names.queuePrefix,
    visibilityTimeoutS,
    bucket: `${names.service}-payloads-${account}-\${AWS::Region}`,
    llm: { name: 'openai', baseUrl: '${LlmBaseUrl}', model: '${LlmModel}', apiKeyEnv: 'WARDEN_LLM_API_KEY' },
    recordStore: { baseUrl: '${RecordStoreUrl}', tokenEnv: 'WARDEN_RECORD_STORE_TOKEN' },
    actorConcurrency,
    drainTimeoutMs,
  });
  R['LaunchTemplate'] = resource('AWS::EC2::LaunchTemplate', {
    LaunchTemplateName: names.launchTemplate,
    LaunchTemplateData: {
      ImageId: ref('AmiId'),
      InstanceType: ref('InstanceType'),
      IamInstanceProfile: { Arn: getAtt('InstanceProfile', 'Arn') },
      SecurityGroupIds: [ref('InstanceSecurityGroup')],
      MetadataOptions: { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1, InstanceMetadataTags: 'disabled' },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 16, VolumeType: 'gp3', Encrypted: true, KmsKeyId: keyArn, DeleteOnTermination: true } }],
      UserData: base64(sub(userDataScript({ names, config, lifecycleHeartbeatTimeoutS: LIFECYCLE_HEARTBEAT_TIMEOUT_S }))),
      Monitoring: { Enabled: true },
      EbsOptimized: true,
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tags(names, { Name: `${names.service}-worker` }) },
        { ResourceType: 'volume', Tags: tags(names) },
      ],
    },
  });
  R['WorkerGroup'] = resource(
    'AWS::AutoScaling::AutoScalingGroup',
    {
      AutoScalingGroupName: names.autoScalingGroup,
      LaunchTemplate: { LaunchTemplateId: ref('LaunchTemplate'), Version: getAtt('LaunchTemplate', 'LatestVersionNumber') },
      MinSize: ref('MinInstances'),
      MaxSize: ref('MaxInstances'),
      VPCZoneIdentifier: ref('PrivateSubnetIds'),
      HealthCheckType: 'EC2',
      HealthCheckGracePeriod: 120,
      DefaultInstanceWarmup: 120,
      MetricsCollection: [{ Granularity: '1Minute', Metrics: ['GroupInServiceInstances', 'GroupDesiredCapacity', 'GroupTerminatingInstances'] }],
      LifecycleHookSpecificationList: [
        {
          LifecycleHookName: names.lifecycleHook,
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          HeartbeatTimeout: LIFECYCLE_HEARTBEAT_TIMEOUT_S,
          // Nothing is lost if an instance goes without finishing its drain; only slower.
          DefaultResult: 'CONTINUE',
        },
      ],
      TerminationPolicies: ['OldestLaunchTemplate', 'Default'],
      Tags: [{ Key: 'Service', Value: names.service, PropagateAtLaunch: true }],
    },
    { DependsOn: ['Redis', 'JobsTable', 'FencesTable'] },
  );
  // Backlog per instance, the AWS-recommended SQS scaling metric: fleet backlog / instances in service.
  R['BacklogScaling'] = resource('AWS::AutoScaling::ScalingPolicy', {
    AutoScalingGroupName: ref('WorkerGroup'),
    PolicyType: 'TargetTrackingScaling',
    TargetTrackingConfiguration: {
      TargetValue: ref('BacklogPerInstanceTarget'),
      CustomizedMetricSpecification: {
        Metrics: [
          (() => {
            const m = wardenMetric('queueBacklog', names.service);
            return {
              Id: 'backlog',
              ReturnData: false,
              MetricStat: { Metric: { Namespace: m.namespace, MetricName: m.name, Dimensions: [{ Name: 'Service', Value: names.service }] }, Period: 60, Stat: 'Maximum' },
            };
          })(),
          {
            Id: 'instances',
            ReturnData: false,
            MetricStat: { Metric: { Namespace: 'AWS/AutoScaling', MetricName: 'GroupInServiceInstances', Dimensions: [{ Name: 'AutoScalingGroupName', Value: names.autoScalingGroup }] }, Period: 60, Stat: 'Average' },
          },
          { Id: 'backlog_per_instance', Expression: 'backlog / instances', Label: 'messages waiting per in-service instance', ReturnData: true },
        ],
      },
    },
  });

  // --- Operations: SSM documents, dashboard, alarms. ---
  for (const doc of ssmDocuments()) {
    R[logicalId('Ssm', doc.name.replace(/^warden-/, ''))] = resource('AWS::SSM::Document', {
      Name: `${names.ssmDocumentPrefix}-${doc.name.replace(/^warden-/, '')}`,
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      Content: doc.content as Value,
      UpdateMethod: 'NewVersion',
      Tags: tags(names),
    });
  }
  R['Dashboard'] = resource('AWS::CloudWatch::Dashboard', { DashboardName: names.dashboard, DashboardBody: sub(JSON.stringify(buildDashboard(names))) });
  const alarms = buildAlarms(names, ref('AlarmTopic'));
  for (const alarm of alarms) R[alarm.logicalId] = resource('AWS::CloudWatch::Alarm', alarm.properties);

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `${names.service}: exactly-once AI job runtime (queues, tables, payloads, Redis, fleet, operations)`,
    Parameters: {
      AmiId: { Type: 'AWS::EC2::Image::Id', Description: 'AMI built by packer/warden.pkr.hcl' },
      InstanceType: { Type: 'String', Description: 'Worker instance type (I/O bound: LLM calls wait on the network)', Default: 'm7i.large' },
      VpcId: { Type: 'AWS::EC2::VPC::Id', Description: 'VPC of the fleet and the cache' },
      PrivateSubnetIds: { Type: 'List<AWS::EC2::Subnet::Id>', Description: 'Private subnets (two or more AZs) with egress to AWS endpoints and the LLM provider' },
      MinInstances: { Type: 'Number', Description: 'Fleet minimum (>= 2: one instance loss must not stop work)', Default: 2, MinValue: 1 },
      MaxInstances: { Type: 'Number', Description: 'Fleet maximum', Default: 32, MinValue: 1 },
      BacklogPerInstanceTarget: {
        Type: 'Number',
        Description:
          'Messages waiting per instance the fleet scales to. Acceptable backlog per instance = jobs an instance finishes in the latency budget: ' +
          '(partitions/instances x actor concurrency) slots x (120 s freshness - P95 20 s) / ~8 s mean job time; default leaves half of it as headroom.',
        Default: 200,
        MinValue: 1,
      },
      RedisNodeType: { Type: 'String', Description: 'ElastiCache node type', Default: 'cache.r7g.large' },
      LlmBaseUrl: { Type: 'String', Description: 'OpenAI-compatible base URL', AllowedPattern: '^https://[^\\s"\'$`\\\\]+$' },
      LlmModel: { Type: 'String', Description: 'Model name', AllowedPattern: '^[A-Za-z0-9._:/-]+$' },
      LlmApiKeySecretArn: { Type: 'String', Description: 'Secrets Manager ARN of the LLM API key', AllowedPattern: '^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$' },
      RecordStoreUrl: { Type: 'String', Description: 'Record store base URL', AllowedPattern: '^https://[^\\s"\'$`\\\\]+$' },
    },
    Resources: R,
    Outputs: {
      AutoScalingGroupName: { Description: 'Worker group (instance refresh, SSM targets)', Value: ref('WorkerGroup') },
      KeyArn: { Description: 'KMS key: pass to packer as kms_key_id', Value: keyArn },
      AlarmTopicArn: { Description: 'Subscribe the on-call here', Value: ref('AlarmTopic') },
      PayloadBucketName: { Description: 'Payload bucket', Value: ref('PayloadBucket') },
      DeployGateAlarms: { Description: 'Alarms an instance refresh watches for auto-rollback', Value: alarms.filter((a) => a.deployGate).map((a) => a.properties.AlarmName).join(',') },
      InstancePaths: { Description: 'Where the AMI keeps things', Value: `${INSTANCE_PATHS.releaseDir} ${INSTANCE_PATHS.configFile}` },
    },
  };
}
