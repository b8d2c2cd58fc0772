import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Mints fencing tokens durably: one atomic counter per partition in DynamoDB. Redis may lose its
 * data (restart without persistence, failover), DynamoDB does not, so a token minted here is
 * strictly greater than every token minted before for that partition, whatever Redis forgot.
 */
export class FencingTokenMinter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async mint(partition: number, owner: string): Promise<number> {
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `partition#${partition}` },
        UpdateExpression: 'ADD #token :one SET #owner = :owner, #at = :at',
        ExpressionAttributeNames: { '#token': 'token', '#owner': 'owner', '#at': 'minted_at' },
        ExpressionAttributeValues: { ':one': 1, ':owner': owner, ':at': new Date().toISOString() },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const token = out.Attributes?.['token'];
    if (typeof token !== 'number') throw new Error(`fencing token for partition ${partition} came back as ${String(token)}`);
    return token;
  }
}
