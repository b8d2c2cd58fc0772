import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parseConfig } from '../../src/config/load-config.ts';
import { configSchema } from '../../src/config/config-schema.ts';
import { JOBS_GSI_BY_PARTITION, JOBS_TTL_ATTRIBUTE } from '../../src/stack/infra/provision-tables.ts';
import { resourcesOfType, type PolicyStatement, type Resource, type Template, type Value } from '../../infra/cfn.ts';
import { cloudWatchAgentConfig } from '../../infra/cloudwatch-agent.ts';
import { exampleInstanceConfig } from '../../infra/instance-config.ts';
import { deploymentNames } from '../../infra/names.ts';
import { buildTemplate, LIFECYCLE_HEARTBEAT_TIMEOUT_S } from '../../infra/warden-stack.ts';
import { parseUnitFile, seconds, value } from './support/unit-file.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const template: Template = buildTemplate();
const names = deploymentNames();
const DRAIN_BUDGET_S = configSchema.properties.supervisor.properties.drainTimeoutMs.default / 1000;

const PSEUDO = new Set(['AWS::AccountId', 'AWS::Region', 'AWS::Partition', 'AWS::StackName', 'AWS::StackId', 'AWS::URLSuffix', 'AWS::NoValue']);

/** Every logical id an intrinsic function names, anywhere under `node`. */
function references(node: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => references(n, out));
  else if (node && typeof node === 'object') {
    for (const [key, child] of Object.entries(node)) {
      if (key === 'Ref' && typeof child === 'string') out.add(child);
      else if (key === 'Fn::GetAtt' && Array.isArray(child)) out.add(String(child[0]));
      else if (key === 'Fn::Sub') {
        const [text, vars] = Array.isArray(child) ? (child as [string, Record<string, unknown>]) : [child as string, {}];
        for (const m of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const name = (m[1] as string).split('.')[0] as string;
          if (!(name in vars) && !(m[1] as string).startsWith('resolve:')) out.add(name.includes('::') ? (m[1] as string) : name);
        }
        references(vars, out);
      } else references(child, out);
    }
  }
  return out;
}

/** Does an IAM action pattern (with * and ?) cover `action`? */
function covers(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(action);
}

function roleStatements(): PolicyStatement[] {
  const [, role] = resourcesOfType(template, 'AWS::IAM::Role')[0]!;
  return (role.Properties.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement);
}

const asList = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

describe('CloudFormation template', () => {
  test('every reference resolves to a parameter, a resource or a pseudo parameter', () => {
    const known = new Set([...Object.keys(template.Parameters), ...Object.keys(template.Resources)]);
    for (const name of references(template)) assert.ok(known.has(name) || PSEUDO.has(name), `unresolved reference ${name}`);
    assert.ok(Object.keys(template.Resources).length < 500, 'CloudFormation allows 500 resources');
    assert.ok(JSON.stringify(template).length < 1_000_000, 'template body under 1 MB (deployed through S3)');
  });

  test('every partition queue has a dead-letter queue with a redrive policy; names follow the runtime', () => {
    const queues = resourcesOfType(template, 'AWS::SQS::Queue');
    const arnsOf = new Map(queues.map(([id, q]) => [id, q.Properties.QueueName]));
    const dlqIds = new Set(queues.filter(([, q]) => q.Properties.Tags?.some((t) => t.Key === 'Role' && t.Value === 'dead-letter')).map(([id]) => id));
    assert.deepEqual([...dlqIds].map((id) => arnsOf.get(id)).sort(), [names.dlqPermanent, names.dlqTransient].sort());
    const partitions = queues.filter(([id]) => !dlqIds.has(id));
    assert.equal(partitions.length, 64);
    assert.deepEqual(partitions.map(([, q]) => q.Properties.QueueName).sort(), [...names.partitionQueues].sort());
    for (const [id, q] of partitions) {
      const redrive = q.Properties.RedrivePolicy;
      assert.ok(redrive, `${id} has a RedrivePolicy`);
      const target = (redrive.deadLetterTargetArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
      assert.ok(dlqIds.has(target[0]) && target[1] === 'Arn', `${id} redrives to a dead-letter queue`);
      assert.ok(redrive.maxReceiveCount >= 1);
      // Short enough that messages a dead owner had received come back within the recovery target;
      // the actor extends every message in flight each third of it, so long LLM calls stay hidden.
      const visibility = q.Properties.VisibilityTimeout ?? 0;
      assert.ok(visibility >= 20 && visibility <= 30, `visibility timeout ${visibility} s`);
    }
  });

  test('encryption at rest everywhere, with the customer-managed key where the service allows one', () => {
    const cmk = { 'Fn::GetAtt': ['Key', 'Arn'] };
    for (const [id, q] of resourcesOfType(template, 'AWS::SQS::Queue')) assert.deepEqual(q.Properties.KmsMasterKeyId, cmk, id);
    for (const [id, t] of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
      assert.deepEqual(t.Properties.SSESpecification, { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: cmk }, id);
    }
    for (const [id, b] of resourcesOfType(template, 'AWS::S3::Bucket')) assert.ok(b.Properties.BucketEncryption.ServerSideEncryptionConfiguration.length > 0, id);
    const payload = template.Resources['PayloadBucket'] as Resource<'AWS::S3::Bucket'>;
    assert.deepEqual(payload.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]?.ServerSideEncryptionByDefault, { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: cmk });
    for (const [id, g] of resourcesOfType(template, 'AWS::Logs::LogGroup')) assert.deepEqual(g.Properties.KmsKeyId, cmk, id);
    for (const [id, s] of resourcesOfType(template, 'AWS::SecretsManager::Secret')) assert.deepEqual(s.Properties.KmsKeyId, cmk, id);
    for (const [id, t] of resourcesOfType(template, 'AWS::SNS::Topic')) assert.ok(t.Properties.KmsMasterKeyId, id);
    for (const [id, t] of resourcesOfType(template, 'AWS::CloudTrail::Trail')) assert.deepEqual(t.Properties.KMSKeyId, cmk, id);
    for (const [id, r] of resourcesOfType(template, 'AWS::ElastiCache::ReplicationGroup')) {
      assert.equal(r.Properties.AtRestEncryptionEnabled, true, id);
      assert.equal(r.Properties.TransitEncryptionEnabled, true, id);
      assert.deepEqual(r.Properties.KmsKeyId, cmk, id);
      assert.ok(r.Properties.AuthToken, 'Redis requires AUTH');
    }
    const [, lt] = resourcesOfType(template, 'AWS::EC2::LaunchTemplate')[0]!;
    for (const d of lt.Properties.LaunchTemplateData.BlockDeviceMappings) assert.deepEqual([d.Ebs.Encrypted, d.Ebs.KmsKeyId], [true, cmk]);
    const [, key] = resourcesOfType(template, 'AWS::KMS::Key')[0]!;
    assert.equal(key.Properties.EnableKeyRotation, true);
  });

  test('tables: TTL on jobs only (fences never expire), point-in-time recovery, deletion protection, retained', () => {
    const tables = Object.fromEntries(resourcesOfType(template, 'AWS::DynamoDB::Table').map(([id, t]) => [id, t]));
    assert.deepEqual(Object.keys(tables).sort(), ['AccessTable', 'FencesTable', 'JobsTable']);
    assert.deepEqual(tables['JobsTable']!.Properties.TimeToLiveSpecification, { AttributeName: JOBS_TTL_ATTRIBUTE, Enabled: true });
    assert.equal(tables['FencesTable']!.Properties.TimeToLiveSpecification, undefined, 'a fencing token must never expire');
    assert.ok(tables['JobsTable']!.Properties.GlobalSecondaryIndexes?.some((g) => g.IndexName === JOBS_GSI_BY_PARTITION));
    assert.equal(tables['JobsTable']!.Properties.TableName, names.jobsTable);
    for (const [id, t] of Object.entries(tables)) {
      assert.equal(t.Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled, true, id);
      assert.equal(t.Properties.DeletionProtectionEnabled, true, id);
      assert.equal(t.DeletionPolicy, 'Retain', id);
    }
  });

  test('payload bucket: private, TLS only, 30-day lifecycle, access logged (server access logs and CloudTrail data events)', () => {
    const payload = template.Resources['PayloadBucket'] as Resource<'AWS::S3::Bucket'>;
    assert.deepEqual(Object.values(payload.Properties.PublicAccessBlockConfiguration), [true, true, true, true]);
    const rule = payload.Properties.LifecycleConfiguration?.Rules.find((r) => r.Status === 'Enabled' && r.ExpirationInDays !== undefined);
    assert.equal(rule?.ExpirationInDays, 30);
    assert.equal(rule?.Prefix, undefined, 'the whole bucket, not a prefix');
    assert.deepEqual(payload.Properties.LoggingConfiguration?.DestinationBucketName, { Ref: 'AccessLogBucket' });
    const policy = template.Resources['PayloadBucketPolicy'] as Resource<'AWS::S3::BucketPolicy'>;
    assert.ok(policy.Properties.PolicyDocument.Statement.some((s) => s.Effect === 'Deny' && s.Condition?.['Bool']?.['aws:SecureTransport'] === false));
    const [, trail] = resourcesOfType(template, 'AWS::CloudTrail::Trail')[0]!;
    const selector = trail.Properties.EventSelectors?.[0];
    assert.equal(selector?.ReadWriteType, 'All');
    assert.equal(selector?.DataResources[0]?.Type, 'AWS::S3::Object');
  });

  test('the instance role cannot delete or alter a table, and holds no wildcard action', () => {
    const statements = roleStatements();
    const allows = statements.filter((s) => s.Effect === 'Allow');
    for (const action of ['dynamodb:DeleteTable', 'dynamodb:UpdateTable', 'dynamodb:DeleteItem', 'dynamodb:DeleteBackup', 'dynamodb:UpdateTimeToLive', 's3:DeleteBucket', 'sqs:DeleteQueue', 'kms:ScheduleKeyDeletion']) {
      assert.ok(!allows.some((s) => asList(s.Action).some((p) => covers(p, action))), `the role may ${action}`);
    }
    const deny = statements.find((s) => s.Effect === 'Deny');
    assert.ok(deny && asList(deny.Action).includes('dynamodb:DeleteTable'), 'an explicit Deny of DeleteTable (survives a future broad Allow)');
    for (const s of allows) {
      for (const a of asList(s.Action)) assert.ok(!a.endsWith(':*') && a !== '*', `wildcard action ${a}`);
      if (s.Resource === '*') assert.ok(['ec2:DescribeTags', 'cloudwatch:PutMetricData'].includes(asList(s.Action)[0] as string), `${s.Sid} on every resource`);
    }
    const [, role] = resourcesOfType(template, 'AWS::IAM::Role')[0]!;
    assert.deepEqual(role.Properties.ManagedPolicyArns, [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore' }]);
  });

  test('launch template: IMDSv2 required (hop limit 1), no SSH key, no ingress on the fleet', () => {
    const [, lt] = resourcesOfType(template, 'AWS::EC2::LaunchTemplate')[0]!;
    const data = lt.Properties.LaunchTemplateData;
    assert.deepEqual([data.MetadataOptions.HttpTokens, data.MetadataOptions.HttpEndpoint, data.MetadataOptions.HttpPutResponseHopLimit], ['required', 'enabled', 1]);
    assert.equal((data as Record<string, unknown>)['KeyName'], undefined);
    const sg = template.Resources['InstanceSecurityGroup'] as Resource<'AWS::EC2::SecurityGroup'>;
    assert.equal(sg.Properties.SecurityGroupIngress, undefined);
    for (const [, ingress] of resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress')) assert.notDeepEqual(ingress.Properties.GroupId, { Ref: 'InstanceSecurityGroup' });
  });

  test('Auto Scaling: termination lifecycle hook longer than the drain, backlog-per-instance target tracking (not CPU)', () => {
    const [, asg] = resourcesOfType(template, 'AWS::AutoScaling::AutoScalingGroup')[0]!;
    const hook = asg.Properties.LifecycleHookSpecificationList?.[0];
    assert.equal(hook?.LifecycleTransition, 'autoscaling:EC2_INSTANCE_TERMINATING');
    assert.equal(hook?.LifecycleHookName, names.lifecycleHook);
    assert.equal(hook?.DefaultResult, 'CONTINUE');
    assert.equal(hook?.HeartbeatTimeout, LIFECYCLE_HEARTBEAT_TIMEOUT_S);
    assert.ok(LIFECYCLE_HEARTBEAT_TIMEOUT_S > DRAIN_BUDGET_S && LIFECYCLE_HEARTBEAT_TIMEOUT_S >= 3 * 30, 'a drain fits the hook, and a heartbeat every 30 s may miss two');
    assert.equal(asg.Properties.AutoScalingGroupName, names.autoScalingGroup);
    assert.ok(asg.Properties.MetricsCollection?.[0]?.Metrics?.includes('GroupInServiceInstances'));
    const unit = parseUnitFile(join(ROOT, 'systemd/warden-supervisor.service'));
    assert.ok(seconds(value(unit, 'Service', 'TimeoutStopSec') ?? '0') < LIFECYCLE_HEARTBEAT_TIMEOUT_S, 'systemd gives up on a stuck drain before the hook expires');

    const policies = resourcesOfType(template, 'AWS::AutoScaling::ScalingPolicy');
    assert.equal(policies.length, 1);
    const metrics = policies[0]![1].Properties.TargetTrackingConfiguration.CustomizedMetricSpecification.Metrics;
    const byId = Object.fromEntries(metrics.map((m) => [m.Id, m]));
    assert.equal(byId['backlog']?.MetricStat?.Metric.MetricName, 'QueueBacklog');
    assert.equal(byId['instances']?.MetricStat?.Metric.MetricName, 'GroupInServiceInstances');
    assert.equal(metrics.filter((m) => m.ReturnData).length, 1);
    assert.equal(metrics.find((m) => m.ReturnData)?.Expression, 'backlog / instances');
    assert.ok(!JSON.stringify(policies).includes('CPUUtilization'));
  });

  test('the SSM documents are the files in ssm/, as Command documents', () => {
    const docs = resourcesOfType(template, 'AWS::SSM::Document');
    const files = readdirSync(join(ROOT, 'ssm')).filter((f) => f.endsWith('.json'));
    assert.equal(docs.length, files.length);
    for (const file of files) {
      const content = JSON.parse(readFileSync(join(ROOT, 'ssm', file), 'utf8'));
      const match = docs.find(([, d]) => JSON.stringify(d.Properties.Content) === JSON.stringify(content));
      assert.ok(match, `${file} is deployed`);
      assert.equal(match[1].Properties.DocumentType, 'Command');
      assert.equal(match[1].Properties.Name, `warden-${file.replace(/^warden-|\.json$/g, '')}`);
    }
  });

  test('the config user data writes is a valid warden config naming the stack resources', () => {
    const [, lt] = resourcesOfType(template, 'AWS::EC2::LaunchTemplate')[0]!;
    const script = ((lt.Properties.LaunchTemplateData.UserData as { 'Fn::Base64': { 'Fn::Sub': string } })['Fn::Base64'])['Fn::Sub'];
    const json = /<<'WARDEN_CONFIG'\n([\s\S]*?)\nWARDEN_CONFIG/.exec(script)?.[1];
    assert.ok(json, 'user data writes the config');
    // What CloudFormation substitutes, with plausible values.
    const resolved = json
      .replaceAll('${AWS::Region}', 'eu-west-1')
      .replaceAll('${AWS::AccountId}', '123456789012')
      .replaceAll('${Redis.PrimaryEndPoint.Address}', 'master.warden.abc.euw1.cache.amazonaws.com')
      .replaceAll('${Redis.PrimaryEndPoint.Port}', '6379')
      .replaceAll('${LlmBaseUrl}', 'https://llm.example.com')
      .replaceAll('${LlmModel}', 'gpt-4o-mini')
      .replaceAll('${RecordStoreUrl}', 'https://records.example.com');
    assert.ok(!resolved.includes('${'), `unresolved placeholder in ${resolved}`);
    const config = parseConfig(JSON.parse(resolved));
    assert.equal(config.tables.jobs, names.jobsTable);
    assert.equal(config.tables.fences, names.fencesTable);
    assert.equal(config.queues.prefix, names.queuePrefix);
    assert.equal(config.partitions, 64);
    assert.equal(config.bucket, 'warden-payloads-123456789012-eu-west-1');
    assert.equal(config.metrics.namespace, 'Warden');
    assert.equal(config.queues.visibilityTimeoutS, 30);
    assert.match(config.redis.url, /^rediss:\/\//);
    // Nothing in the script is claimed by Fn::Sub by accident: every ${...} is a known name.
    for (const m of script.matchAll(/\$\{([^}]+)\}/g)) assert.ok(!/^[a-z_]+$/.test(m[1] as string), `shell-style \${${m[1]}} in user data`);
    assert.match(script, /systemctl enable --now warden-supervisor\.service/);
  });

  test('the release example config validates; the AMI-baked agent config is the stack default', () => {
    parseConfig(exampleInstanceConfig());
    const baked = JSON.parse(readFileSync(join(ROOT, 'packer/files/amazon-cloudwatch-agent.json'), 'utf8'));
    assert.deepEqual(baked, cloudWatchAgentConfig(names));
    const param = template.Resources['AgentConfig'] as Resource<'AWS::SSM::Parameter'>;
    assert.deepEqual(JSON.parse(param.Properties.Value as string), baked);
  });

  test('another service name gives disjoint names', () => {
    const other = buildTemplate({ service: 'warden-staging', partitions: 4 });
    const queueNames = resourcesOfType(other, 'AWS::SQS::Queue').map(([, q]) => q.Properties.QueueName as string);
    assert.equal(queueNames.length, 6);
    assert.ok(queueNames.every((n) => n.startsWith('warden-staging-p')));
    const everyValue = (v: Value): string => JSON.stringify(v);
    assert.ok(!everyValue(other.Resources as unknown as Value).includes('"warden-jobs"'));
  });
});
