/**
 * `npm run synth [-- --service warden --partitions 64 --out dist/infra]`: writes the CloudFormation
 * template as JSON. Deploy it with the AWS CLI (the template is over the 51,200-byte inline limit,
 * so it goes through an S3 bucket):
 *
 *   aws cloudformation deploy --template-file dist/infra/warden.template.json --stack-name warden \
 *     --s3-bucket <artifacts bucket> --capabilities CAPABILITY_IAM --parameter-overrides AmiId=ami-... ...
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildTemplate } from './warden-stack.ts';

const { values } = parseArgs({ options: { service: { type: 'string' }, partitions: { type: 'string' }, out: { type: 'string' } } });
const template = buildTemplate({
  ...(values.service ? { service: values.service } : {}),
  ...(values.partitions ? { partitions: Number(values.partitions) } : {}),
});
const outDir = resolve(values.out ?? 'dist/infra');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `${values.service ?? 'warden'}.template.json`);
writeFileSync(file, `${JSON.stringify(template, null, 2)}\n`);
process.stdout.write(`${file} (${Object.keys(template.Resources).length} resources)\n`);
