/**
 * A typed subset of CloudFormation: the template shape, the intrinsic functions, and the
 * properties of exactly the resource types the warden stack uses (names as in the CloudFormation
 * resource reference). `resource('AWS::SQS::Queue', {...})` checks the properties at compile time;
 * an unknown property or a typo is a type error, not a failed stack update an hour later.
 */

export type Intrinsic =
  | { Ref: string }
  | { 'Fn::GetAtt': [string, string] }
  | { 'Fn::Sub': string | [string, Record<string, Value>] }
  | { 'Fn::Join': [string, Value[]] }
  | { 'Fn::Base64': Value }
  | { 'Fn::ToJsonString': Value };

export type Value = string | number | boolean | Intrinsic | Value[] | { [key: string]: Value };

export const ref = (logicalId: string): Intrinsic => ({ Ref: logicalId });
export const getAtt = (logicalId: string, attribute: string): Intrinsic => ({ 'Fn::GetAtt': [logicalId, attribute] });
export const sub = (template: string, variables?: Record<string, Value>): Intrinsic => ({ 'Fn::Sub': variables ? [template, variables] : template });
export const join = (separator: string, parts: Value[]): Intrinsic => ({ 'Fn::Join': [separator, parts] });
export const base64 = (value: Value): Intrinsic => ({ 'Fn::Base64': value });

export interface Tag {
  Key: string;
  Value: Value;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | { AWS?: Value; Service?: Value };
  Action: string | string[];
  /** Absent only in trust policies. */
  Resource?: Value;
  Condition?: Record<string, Record<string, Value>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

interface MetricDimension {
  Name: string;
  Value: Value;
}

export interface MetricDataQuery {
  Id: string;
  Expression?: string;
  Label?: string;
  ReturnData?: boolean;
  Period?: number;
  MetricStat?: {
    Metric: { Namespace: string; MetricName: string; Dimensions?: MetricDimension[] };
    Period: number;
    Stat: string;
    Unit?: string;
  };
}

/** Properties by resource type: only what this stack sets. */
export interface ResourceProperties {
  'AWS::KMS::Key': {
    Description: string;
    EnableKeyRotation: boolean;
    KeySpec?: 'SYMMETRIC_DEFAULT';
    KeyUsage?: 'ENCRYPT_DECRYPT';
    PendingWindowInDays?: number;
    KeyPolicy: PolicyDocument;
    Tags?: Tag[];
  };
  'AWS::KMS::Alias': { AliasName: Value; TargetKeyId: Value };
  'AWS::SQS::Queue': {
    QueueName: Value;
    VisibilityTimeout?: number;
    MessageRetentionPeriod?: number;
    ReceiveMessageWaitTimeSeconds?: number;
    KmsMasterKeyId?: Value;
    KmsDataKeyReusePeriodSeconds?: number;
    RedrivePolicy?: { deadLetterTargetArn: Value; maxReceiveCount: number };
    RedriveAllowPolicy?: { redrivePermission: 'allowAll' | 'denyAll' | 'byQueue'; sourceQueueArns?: Value[] };
    Tags?: Tag[];
  };
  'AWS::DynamoDB::Table': {
    TableName: Value;
    BillingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
    AttributeDefinitions: Array<{ AttributeName: string; AttributeType: 'S' | 'N' | 'B' }>;
    KeySchema: Array<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>;
    GlobalSecondaryIndexes?: Array<{
      IndexName: string;
      KeySchema: Array<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>;
      Projection: { ProjectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; NonKeyAttributes?: string[] };
    }>;
    TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: boolean; RecoveryPeriodInDays?: number };
    SSESpecification: { SSEEnabled: boolean; SSEType?: 'KMS'; KMSMasterKeyId?: Value };
    DeletionProtectionEnabled?: boolean;
    Tags?: Tag[];
  };
  'AWS::S3::Bucket': {
    BucketName?: Value;
    BucketEncryption: {
      ServerSideEncryptionConfiguration: Array<{
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' | 'AES256' | 'aws:kms:dsse'; KMSMasterKeyID?: Value };
        BucketKeyEnabled?: boolean;
      }>;
    };
    PublicAccessBlockConfiguration: { BlockPublicAcls: boolean; BlockPublicPolicy: boolean; IgnorePublicAcls: boolean; RestrictPublicBuckets: boolean };
    OwnershipControls?: { Rules: Array<{ ObjectOwnership: 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter' }> };
    VersioningConfiguration?: { Status: 'Enabled' | 'Suspended' };
    LifecycleConfiguration?: {
      Rules: Array<{
        Id: string;
        Status: 'Enabled' | 'Disabled';
        Prefix?: string;
        ExpirationInDays?: number;
        NoncurrentVersionExpiration?: { NoncurrentDays: number };
        AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
      }>;
    };
    LoggingConfiguration?: { DestinationBucketName: Value; LogFilePrefix?: string };
    Tags?: Tag[];
  };
  'AWS::S3::BucketPolicy': { Bucket: Value; PolicyDocument: PolicyDocument };
  'AWS::CloudTrail::Trail': {
    TrailName?: Value;
    IsLogging: boolean;
    S3BucketName: Value;
    S3KeyPrefix?: string;
    KMSKeyId?: Value;
    EnableLogFileValidation?: boolean;
    IncludeGlobalServiceEvents?: boolean;
    IsMultiRegionTrail?: boolean;
    EventSelectors?: Array<{ ReadWriteType: 'All' | 'ReadOnly' | 'WriteOnly'; IncludeManagementEvents: boolean; DataResources: Array<{ Type: string; Values: Value[] }> }>;
  };
  'AWS::SecretsManager::Secret': {
    Name?: Value;
    Description: string;
    KmsKeyId?: Value;
    GenerateSecretString?: { PasswordLength: number; ExcludePunctuation?: boolean; ExcludeCharacters?: string };
  };
  'AWS::EC2::SecurityGroup': {
    GroupDescription: string;
    VpcId: Value;
    SecurityGroupIngress?: Array<Record<string, Value>>;
    SecurityGroupEgress?: Array<{ IpProtocol: string; FromPort?: number; ToPort?: number; CidrIp?: string; DestinationSecurityGroupId?: Value; Description?: string }>;
    Tags?: Tag[];
  };
  'AWS::EC2::SecurityGroupIngress': { GroupId: Value; IpProtocol: string; FromPort: number; ToPort: number; SourceSecurityGroupId: Value; Description?: string };
  'AWS::EC2::SecurityGroupEgress': { GroupId: Value; IpProtocol: string; FromPort: number; ToPort: number; DestinationSecurityGroupId: Value; Description?: string };
  'AWS::ElastiCache::SubnetGroup': { Description: string; SubnetIds: Value };
  'AWS::ElastiCache::ReplicationGroup': {
    ReplicationGroupId?: string;
    ReplicationGroupDescription: string;
    Engine: 'redis' | 'valkey';
    EngineVersion: string;
    CacheNodeType: Value;
    NumCacheClusters: number;
    AutomaticFailoverEnabled: boolean;
    MultiAZEnabled: boolean;
    TransitEncryptionEnabled: boolean;
    AtRestEncryptionEnabled: boolean;
    KmsKeyId?: Value;
    AuthToken?: Value;
    CacheSubnetGroupName: Value;
    SecurityGroupIds: Value[];
    Port?: number;
    SnapshotRetentionLimit?: number;
    AutoMinorVersionUpgrade?: boolean;
  };
  'AWS::Logs::LogGroup': { LogGroupName: Value; RetentionInDays: number; KmsKeyId?: Value };
  'AWS::SSM::Parameter': { Name: Value; Type: 'String'; Value: Value; Description?: string; Tier?: 'Standard' | 'Advanced' };
  'AWS::SSM::Document': { Name: Value; DocumentType: 'Command'; DocumentFormat: 'JSON' | 'YAML'; Content: Value; UpdateMethod?: 'Replace' | 'NewVersion'; Tags?: Tag[] };
  'AWS::SNS::Topic': { TopicName?: Value; KmsMasterKeyId: Value };
  'AWS::IAM::Role': {
    Description?: string;
    AssumeRolePolicyDocument: PolicyDocument;
    ManagedPolicyArns?: Value[];
    Policies?: Array<{ PolicyName: string; PolicyDocument: PolicyDocument }>;
    MaxSessionDuration?: number;
  };
  'AWS::IAM::InstanceProfile': { Roles: Value[] };
  'AWS::EC2::LaunchTemplate': {
    LaunchTemplateName: Value;
    LaunchTemplateData: {
      ImageId: Value;
      InstanceType: Value;
      IamInstanceProfile: { Arn: Value };
      SecurityGroupIds: Value[];
      MetadataOptions: { HttpEndpoint: 'enabled' | 'disabled'; HttpTokens: 'required' | 'optional'; HttpPutResponseHopLimit: number; InstanceMetadataTags?: 'enabled' | 'disabled' };
      BlockDeviceMappings: Array<{ DeviceName: string; Ebs: { VolumeSize: number; VolumeType: string; Encrypted: boolean; KmsKeyId?: Value; DeleteOnTermination: boolean } }>;
      UserData: Value;
      Monitoring?: { Enabled: boolean };
      EbsOptimized?: boolean;
      TagSpecifications?: Array<{ ResourceType: 'instance' | 'volume'; Tags: Tag[] }>;
      KeyName?: never;
    };
  };
  'AWS::AutoScaling::AutoScalingGroup': {
    AutoScalingGroupName: Value;
    LaunchTemplate: { LaunchTemplateId: Value; Version: Value };
    MinSize: Value;
    MaxSize: Value;
    VPCZoneIdentifier: Value;
    HealthCheckType: 'EC2' | 'ELB';
    HealthCheckGracePeriod: number;
    DefaultInstanceWarmup?: number;
    MetricsCollection?: Array<{ Granularity: '1Minute'; Metrics?: string[] }>;
    LifecycleHookSpecificationList?: Array<{
      LifecycleHookName: Value;
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' | 'autoscaling:EC2_INSTANCE_LAUNCHING';
      HeartbeatTimeout: number;
      DefaultResult: 'CONTINUE' | 'ABANDON';
    }>;
    TerminationPolicies?: string[];
    Tags?: Array<Tag & { PropagateAtLaunch: boolean }>;
  };
  'AWS::AutoScaling::ScalingPolicy': {
    AutoScalingGroupName: Value;
    PolicyType: 'TargetTrackingScaling';
    TargetTrackingConfiguration: {
      TargetValue: Value;
      DisableScaleIn?: boolean;
      CustomizedMetricSpecification: { Metrics: MetricDataQuery[] };
    };
  };
  'AWS::CloudWatch::Dashboard': { DashboardName: Value; DashboardBody: Value };
  'AWS::CloudWatch::Alarm': {
    AlarmName: Value;
    AlarmDescription: string;
    ComparisonOperator: 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
    Threshold: number;
    EvaluationPeriods: number;
    DatapointsToAlarm?: number;
    TreatMissingData: 'breaching' | 'notBreaching' | 'ignore' | 'missing';
    AlarmActions?: Value[];
    OKActions?: Value[];
    Namespace?: string;
    MetricName?: string;
    Dimensions?: MetricDimension[];
    Statistic?: 'Sum' | 'Average' | 'Maximum' | 'Minimum' | 'SampleCount';
    ExtendedStatistic?: string;
    Period?: number;
    Metrics?: MetricDataQuery[];
  };
}

export type ResourceType = keyof ResourceProperties;

export interface Resource<T extends ResourceType = ResourceType> {
  Type: T;
  Properties: ResourceProperties[T];
  DependsOn?: string[];
  DeletionPolicy?: 'Retain' | 'Delete' | 'Snapshot';
  UpdateReplacePolicy?: 'Retain' | 'Delete' | 'Snapshot';
}

export function resource<T extends ResourceType>(type: T, properties: ResourceProperties[T], options: Omit<Resource<T>, 'Type' | 'Properties'> = {}): Resource<T> {
  return { Type: type, Properties: properties, ...options };
}

export interface Parameter {
  Type: string;
  Description: string;
  Default?: string | number;
  AllowedPattern?: string;
  MinValue?: number;
  MaxValue?: number;
  NoEcho?: boolean;
}

export interface Template {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Parameters: Record<string, Parameter>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Description: string; Value: Value }>;
}

/** Every resource of one type, with its logical id. */
export function resourcesOfType<T extends ResourceType>(template: Template, type: T): Array<[string, Resource<T>]> {
  return Object.entries(template.Resources).filter((entry): entry is [string, Resource<T>] => entry[1].Type === type);
}
