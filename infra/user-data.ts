import { INSTANCE_PATHS } from './instance-config.ts';
import type { DeploymentNames } from './names.ts';

/**
 * The launch template's user data, as an Fn::Sub template: `${Logical.Attr}` and `${Param}` are
 * CloudFormation's. The script itself uses no `${...}` (Fn::Sub would claim it): plain $VAR only.
 * It writes the instance config and boot.env, points the CloudWatch agent at the stack's config,
 * and only then enables and starts the warden units.
 */
export function userDataScript(input: { names: DeploymentNames; config: unknown; lifecycleHeartbeatTimeoutS: number }): string {
  const { names } = input;
  const script = `#!/bin/sh
set -eu
umask 027
install -d -m 0750 -o root -g warden /etc/warden

cat > ${INSTANCE_PATHS.configFile}.tmp <<'WARDEN_CONFIG'
${JSON.stringify(input.config, null, 2)}
WARDEN_CONFIG
chown root:warden ${INSTANCE_PATHS.configFile}.tmp
chmod 0640 ${INSTANCE_PATHS.configFile}.tmp
mv -f ${INSTANCE_PATHS.configFile}.tmp ${INSTANCE_PATHS.configFile}

cat > ${INSTANCE_PATHS.bootEnv} <<'BOOT_ENV'
AWS_REGION=\${AWS::Region}
WARDEN_REDIS_HOST=\${Redis.PrimaryEndPoint.Address}
WARDEN_REDIS_PORT=\${Redis.PrimaryEndPoint.Port}
WARDEN_REDIS_SECRET_ARN=\${RedisAuthToken}
WARDEN_LLM_SECRET_ARN=\${LlmApiKeySecretArn}
WARDEN_ASG_NAME=${names.autoScalingGroup}
WARDEN_LIFECYCLE_HOOK=${names.lifecycleHook}
WARDEN_LIFECYCLE_HEARTBEAT_TIMEOUT_S=${input.lifecycleHeartbeatTimeoutS}
BOOT_ENV
chmod 0640 ${INSTANCE_PATHS.bootEnv}

/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c ssm:${names.agentConfigParameter}
systemctl enable --now warden-secrets.service
systemctl enable --now warden-supervisor.service
`;
  return script;
}
