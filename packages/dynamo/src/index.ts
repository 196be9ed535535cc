import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export * from '@aws-sdk/lib-dynamodb';

export interface DynamoOptions {
  /** e.g. http://127.0.0.1:4567 for dynalite; leave empty for AWS itself. */
  endpoint?: string;
  region: string;
}

export function createDynamo(options: DynamoOptions) {
  const client = new DynamoDBClient({
    region: options.region,
    ...(options.endpoint
      ? {
          endpoint: options.endpoint,
          // dynalite ignores credentials, but the SDK insists on having some.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
    maxAttempts: 3,
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    client,
    doc,
    async ping() {
      await client.send(new ListTablesCommand({ Limit: 1 }));
    },
    /** Creates the table if it does not exist and waits until it is ACTIVE. */
    async ensureTable(definition: CreateTableCommandInput) {
      try {
        await client.send(new DescribeTableCommand({ TableName: definition.TableName }));
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
        try {
          await client.send(new CreateTableCommand({ BillingMode: 'PAY_PER_REQUEST', ...definition }));
        } catch (createError) {
          // Another instance created it first.
          if ((createError as Error).name !== 'ResourceInUseException') throw createError;
        }
      }
      for (let i = 0; i < 100; i++) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: definition.TableName }));
        if (Table?.TableStatus === 'ACTIVE') return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`table ${definition.TableName} did not become ACTIVE`);
    },
    close() {
      client.destroy();
    },
  };
}
export type Dynamo = ReturnType<typeof createDynamo>;
