import type { Logger } from 'pino';
import { ImdsClient } from '../runtime/aws/imds-client.ts';
import { AutoScalingLifecycleActions } from '../runtime/aws/lifecycle-actions.ts';
import { LifecycleHookWatcher } from '../runtime/aws/lifecycle-hook.ts';

/**
 * On EC2 in an Auto Scaling group with a termination lifecycle hook (user data sets
 * WARDEN_ASG_NAME and WARDEN_LIFECYCLE_HOOK), watches IMDSv2 for the instance's termination
 * and drains before Auto Scaling proceeds, heartbeating the lifecycle action meanwhile. Elsewhere
 * (no hook configured) it does nothing and SIGTERM from systemd remains the way in.
 */
export async function watchScaleIn(options: {
  env: NodeJS.ProcessEnv;
  region: string;
  log: Logger;
  drain: () => Promise<void>;
}): Promise<LifecycleHookWatcher | undefined> {
  const group = options.env['WARDEN_ASG_NAME'];
  const hook = options.env['WARDEN_LIFECYCLE_HOOK'];
  if (!group || !hook) return undefined;
  const imds = new ImdsClient(options.env['WARDEN_IMDS_ENDPOINT'] ? { endpoint: options.env['WARDEN_IMDS_ENDPOINT'] } : {});
  const instanceId = await imds.instanceId();
  const actions = new AutoScalingLifecycleActions({
    region: options.region,
    autoScalingGroupName: group,
    lifecycleHookName: hook,
    instanceId,
    ...(options.env['WARDEN_AUTOSCALING_ENDPOINT'] ? { endpoint: options.env['WARDEN_AUTOSCALING_ENDPOINT'] } : {}),
  });
  const watcher = new LifecycleHookWatcher({ imds, actions, drain: options.drain, log: options.log });
  watcher.start();
  options.log.info({ group, hook, instance_id: instanceId }, 'watching for scale-in termination');
  return watcher;
}
