import { startLocalStack } from '../../stack/local-stack.ts';
import { numberOption, type Command } from '../command.ts';

export const stackCommand: Command = {
  name: 'stack',
  summary: 'start the local stack (redis, dynalite, fauxqs, simulated LLM and record store)',
  usage: `Usage: warden stack [--partitions <n>] [--time-scale <x>] [--config-out <file>]

Starts on free 127.0.0.1 ports: redis-server, dynalite (DynamoDB), fauxqs (SQS and S3), a
simulated OpenAI-compatible LLM and a simulated record store; creates the tables, queues (with
dead-letter queues) and bucket; writes a warden config pointing at them; stops everything on
Ctrl-C or SIGTERM.

Options:
  --partitions <n>     partition queues to create (default 4)
  --time-scale <x>     multiply simulated LLM latencies (default 1: P50 4 s, P95 20 s, 1% 60 s timeouts)
  --config-out <file>  where to write the config (default .warden/local.json)
  -h, --help           show this help`,
  options: { partitions: { type: 'string' }, 'time-scale': { type: 'string' }, 'config-out': { type: 'string' } },
  async run(values) {
    const stack = await startLocalStack({
      partitions: numberOption(values, 'partitions', 4),
      timeScale: numberOption(values, 'time-scale', 1),
    });
    const path = stack.writeConfig((values['config-out'] as string | undefined) ?? '.warden/local.json');
    process.stdout.write(
      [
        'warden local stack is up:',
        `  redis          ${stack.infra.redis.url}`,
        `  dynamodb       ${stack.infra.dynamodbEndpoint}`,
        `  sqs + s3       ${stack.infra.sqsEndpoint}`,
        `  llm            ${stack.llm.url}   (stats: ${stack.llm.url}/__sim/stats)`,
        `  record store   ${stack.records.url}   (stats: ${stack.records.url}/__sim/stats)`,
        `  config         ${path}`,
        '',
        `Run: warden supervisor --config ${path}   and   warden api --config ${path}`,
        'Ctrl-C stops the stack.',
        '',
      ].join('\n'),
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await stack.stop();
    return 0;
  },
};
