import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { ValidationError, WardenError } from '../../errors.ts';
import type { AwsCredentials } from './aws-clients.ts';

/** How a lifecycle action ends. For a termination hook both end in termination; CONTINUE is the honest one after a drain. */
export type LifecycleActionResult = 'CONTINUE' | 'ABANDON';

/**
 * The two Auto Scaling calls a draining instance makes about its own termination lifecycle
 * action. A port, so the drain logic is testable without AWS and the adapter against a stand-in.
 */
export interface LifecycleActions {
  /** Pushes the hook's timeout back by its HeartbeatTimeout. */
  heartbeat(signal?: AbortSignal): Promise<void>;
  /**
   * Ends the action. Resolves `completed`, or `no_active_action` when Auto Scaling holds no
   * action for this instance any more (already completed, or the hook timed out): both mean
   * there is nothing left to do.
   */
  complete(result: LifecycleActionResult, signal?: AbortSignal): Promise<'completed' | 'no_active_action'>;
}

export interface AutoScalingLifecycleActionsOptions {
  region: string;
  autoScalingGroupName: string;
  lifecycleHookName: string;
  instanceId: string;
  /** A local stand-in in tests; absent in production (the regional endpoint). */
  endpoint?: string;
  /** Default: the SDK provider chain (the instance role through IMDSv2). */
  credentials?: AwsCredentials;
  /** SDK attempts per call, first try included. Default 3. */
  maxAttempts?: number;
}

export class LifecycleActionError extends WardenError {
  constructor(message: string, cause: unknown) {
    super('lifecycle_action_failed', message, { retryable: true, cause });
  }
}

const NAME = /^[\w.:/@+=-]{1,255}$/;

function checkName(field: string, value: unknown): string {
  if (typeof value === 'string' && NAME.test(value)) return value;
  throw new ValidationError('invalid_option', `AutoScalingLifecycleActions: ${field} must be a 1..255 character name, got ${JSON.stringify(value)}`);
}

/**
 * Auto Scaling answers CompleteLifecycleAction / RecordLifecycleActionHeartbeat for an instance
 * with no pending action with a ValidationError "No active Lifecycle Action found ...".
 */
function isNoActiveAction(error: unknown): boolean {
  const e = error as { name?: string; message?: string } | null;
  return e?.name === 'ValidationError' && /no active lifecycle action/i.test(e.message ?? '');
}

/** Identified by instance id (no lifecycle action token needed: IMDS does not expose it). */
export class AutoScalingLifecycleActions implements LifecycleActions {
  private readonly client: AutoScalingClient;
  private readonly target: { AutoScalingGroupName: string; LifecycleHookName: string; InstanceId: string };

  constructor(options: AutoScalingLifecycleActionsOptions) {
    if (typeof options?.region !== 'string' || options.region === '') {
      throw new ValidationError('invalid_option', 'AutoScalingLifecycleActions: region must be a non-empty string');
    }
    this.target = {
      AutoScalingGroupName: checkName('autoScalingGroupName', options.autoScalingGroupName),
      LifecycleHookName: checkName('lifecycleHookName', options.lifecycleHookName),
      InstanceId: checkName('instanceId', options.instanceId),
    };
    this.client = new AutoScalingClient({
      region: options.region,
      maxAttempts: options.maxAttempts ?? 3,
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
    });
  }

  async heartbeat(signal?: AbortSignal): Promise<void> {
    try {
      await this.client.send(new RecordLifecycleActionHeartbeatCommand(this.target), signal ? { abortSignal: signal } : {});
    } catch (error) {
      throw new LifecycleActionError(`RecordLifecycleActionHeartbeat for ${this.target.InstanceId} failed: ${(error as Error).message}`, error);
    }
  }

  async complete(result: LifecycleActionResult, signal?: AbortSignal): Promise<'completed' | 'no_active_action'> {
    try {
      await this.client.send(
        new CompleteLifecycleActionCommand({ ...this.target, LifecycleActionResult: result }),
        signal ? { abortSignal: signal } : {},
      );
      return 'completed';
    } catch (error) {
      if (isNoActiveAction(error)) return 'no_active_action';
      throw new LifecycleActionError(`CompleteLifecycleAction for ${this.target.InstanceId} failed: ${(error as Error).message}`, error);
    }
  }

  /** Closes the client's sockets. Idempotent. */
  close(): void {
    this.client.destroy();
  }
}
