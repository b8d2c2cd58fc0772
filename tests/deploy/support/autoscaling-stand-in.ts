import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the Auto Scaling API (AWS Query protocol: form-encoded POST, XML answers)
 * that records the lifecycle calls the SDK client makes, and holds one pending lifecycle action
 * per instance like the real service: completing it twice answers the real ValidationError.
 */
export interface AutoScalingCall {
  action: string;
  params: Record<string, string>;
  at: number;
}

export interface AutoScalingStandIn {
  url: string;
  calls: AutoScalingCall[];
  /** Puts an instance in Terminating:Wait for (group, hook). */
  pendingAction(instanceId: string, group: string, hook: string): void;
  /** Makes the next `n` calls of `action` answer 503 (throttling-like, retryable). */
  failNext(action: string, n: number): void;
  close(): Promise<void>;
}

const NS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';

function errorXml(code: string, message: string): string {
  return `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>`;
}

export async function startAutoScalingStandIn(): Promise<AutoScalingStandIn> {
  const calls: AutoScalingCall[] = [];
  const pending = new Map<string, { group: string; hook: string }>();
  const failures = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const action = params['Action'] ?? '';
      calls.push({ action, params, at: Date.now() });
      const xml = (status: number, body: string) => res.writeHead(status, { 'content-type': 'text/xml' }).end(body);
      const left = failures.get(action) ?? 0;
      if (left > 0) {
        failures.set(action, left - 1);
        xml(503, errorXml('ServiceUnavailable', 'stand-in failure'));
        return;
      }
      if (action !== 'RecordLifecycleActionHeartbeat' && action !== 'CompleteLifecycleAction') {
        xml(400, errorXml('InvalidAction', `stand-in knows no ${action}`));
        return;
      }
      const instance = params['InstanceId'] ?? '';
      const held = pending.get(instance);
      if (!held || held.group !== params['AutoScalingGroupName'] || held.hook !== params['LifecycleHookName']) {
        xml(400, errorXml('ValidationError', `No active Lifecycle Action found with instance ID ${instance}`));
        return;
      }
      if (action === 'CompleteLifecycleAction') {
        if (params['LifecycleActionResult'] !== 'CONTINUE' && params['LifecycleActionResult'] !== 'ABANDON') {
          xml(400, errorXml('ValidationError', 'LifecycleActionResult must be CONTINUE or ABANDON'));
          return;
        }
        pending.delete(instance);
      }
      xml(200, `<${action}Response xmlns="${NS}"><${action}Result/><ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></${action}Response>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    pendingAction(instanceId, group, hook) {
      pending.set(instanceId, { group, hook });
    },
    failNext(action, n) {
      failures.set(action, n);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
