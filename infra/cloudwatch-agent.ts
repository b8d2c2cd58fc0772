import { INSTANCE_PATHS } from './instance-config.ts';
import type { DeploymentNames } from './names.ts';

/**
 * CloudWatch agent config: tails the EMF file (CloudWatch Logs extracts the metrics from each
 * EMF line) and the application log, and reports memory and disk. The stack stores it as an SSM
 * parameter that user data loads; packer/files/amazon-cloudwatch-agent.json is the same config for
 * the default names, baked into the AMI (tests/deploy keeps the two equal).
 */
export function cloudWatchAgentConfig(names: DeploymentNames): Record<string, unknown> {
  return {
    agent: { run_as_user: 'cwagent', metrics_collection_interval: 60 },
    logs: {
      logs_collected: {
        files: {
          collect_list: [
            { file_path: INSTANCE_PATHS.metricsFile, log_group_name: names.logGroupEmf, log_stream_name: '{instance_id}', timezone: 'UTC' },
            { file_path: INSTANCE_PATHS.logFile, log_group_name: names.logGroupSupervisor, log_stream_name: '{instance_id}', timezone: 'UTC' },
          ],
        },
      },
    },
    metrics: {
      namespace: 'CWAgent',
      append_dimensions: { AutoScalingGroupName: '${aws:AutoScalingGroupName}', InstanceId: '${aws:InstanceId}' },
      aggregation_dimensions: [['AutoScalingGroupName']],
      metrics_collected: {
        mem: { measurement: ['mem_used_percent'] },
        disk: { measurement: ['used_percent'], resources: ['/'] },
      },
    },
  };
}
