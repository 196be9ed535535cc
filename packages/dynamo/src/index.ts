import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  DeleteTableCommand,
  ListTablesCommand,
  ResourceNotFoundException,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { inClientSpan } from '@analytica/telemetry/context';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, QueryCommand, type BatchWriteCommandInput } from '@aws-sdk/lib-dynamodb';

export * from '@aws-sdk/lib-dynamodb';

export interface DynamoOptions {
  /** e.g. http://127.0.0.1:4567 for dynalite; leave empty for AWS itself. */
  endpoint?: string;
  region: string;
  /**
   * One attempt of a call that sends nothing back for this long (or cannot connect within it) is
   * given up and, if attempts are left, retried: DYNAMODB_REQUEST_TIMEOUT_MS. Default
   * DEFAULT_DYNAMO_BUDGET.requestTimeoutMs.
   */
  requestTimeoutMs?: number;
  /** Attempts per call, the first included (DYNAMODB_MAX_ATTEMPTS). Default DEFAULT_DYNAMO_BUDGET.maxAttempts. */
  maxAttempts?: number;
}

/**
 * A slow or hung DynamoDB costs a call at most about maxAttempts × requestTimeoutMs (plus the SDK's
 * short back-off between attempts), then the caller gets a TimeoutError, which services answer as
 * SERVICE_UNAVAILABLE (packages/errors, dependencyUnreachable). Without it a call waited as long as
 * the socket stayed open: the gateway's SUBGRAPH_TIMEOUT_MS, with the subgraph still waiting after.
 */
export const DEFAULT_DYNAMO_BUDGET = { requestTimeoutMs: 2000, maxAttempts: 3 } as const;

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
    maxAttempts: options.maxAttempts ?? DEFAULT_DYNAMO_BUDGET.maxAttempts,
    requestHandler: {
      connectionTimeout: options.requestTimeoutMs ?? DEFAULT_DYNAMO_BUDGET.requestTimeoutMs,
      requestTimeout: options.requestTimeoutMs ?? DEFAULT_DYNAMO_BUDGET.requestTimeoutMs,
      // Without it the SDK only logs a warning when requestTimeout passes, and keeps waiting.
      throwOnRequestTimeout: true,
    },
  });
  // Each call inside a traced request is a span of its own (DynamoDB continues no trace: nothing is sent on).
  client.middlewareStack.add(
    (next, context) => (args) => {
      const operation = String(context.commandName ?? 'Command').replace(/Command$/, '');
      const table = (args.input as { TableName?: unknown }).TableName;
      return inClientSpan(
        `dynamodb ${operation}`,
        { 'db.system.name': 'aws.dynamodb', 'db.operation.name': operation, ...(typeof table === 'string' ? { 'db.collection.name': table } : {}) },
        () => next(args),
      );
    },
    { step: 'initialize', name: 'analyticaTracing' },
  );
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

/** The client as a service's validated `dynamoEnv` settings describe it (packages/config). */
export function dynamoFromEnv(env: { DYNAMODB_ENDPOINT?: string; DYNAMODB_REGION: string; DYNAMODB_REQUEST_TIMEOUT_MS: number; DYNAMODB_MAX_ATTEMPTS: number }): Dynamo {
  return createDynamo({ endpoint: env.DYNAMODB_ENDPOINT, region: env.DYNAMODB_REGION, requestTimeoutMs: env.DYNAMODB_REQUEST_TIMEOUT_MS, maxAttempts: env.DYNAMODB_MAX_ATTEMPTS });
}

type WriteRequests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];
type Key = Record<string, unknown>;

const backoff = (attempt: number) => new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
const MAX_ATTEMPTS = 8;

/** BatchWriteItem in chunks of 25, retrying what DynamoDB leaves unprocessed under load. */
export async function batchWrite(dynamo: Dynamo, table: string, requests: WriteRequests): Promise<void> {
  for (let offset = 0; offset < requests.length; offset += 25) {
    let pending = requests.slice(offset, offset + 25);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === MAX_ATTEMPTS) throw new Error(`DynamoDB left ${pending.length} writes to ${table} unprocessed`);
      if (attempt > 0) await backoff(attempt);
      const result = await dynamo.doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = result.UnprocessedItems?.[table] ?? [];
    }
  }
}

/** BatchGetItem in chunks of 100; items come back in no particular order, so callers match them by key. */
export async function batchGet(dynamo: Dynamo, table: string, keys: Key[]): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let offset = 0; offset < keys.length; offset += 100) {
    let pending: Key[] = keys.slice(offset, offset + 100);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === MAX_ATTEMPTS) throw new Error(`DynamoDB left ${pending.length} reads from ${table} unprocessed`);
      if (attempt > 0) await backoff(attempt);
      const result = await dynamo.doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }));
      items.push(...(result.Responses?.[table] ?? []));
      pending = result.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  }
  return items;
}

/** Every item of one partition (`key` = value), read consistently, page after page. */
export async function queryPartition<Item = Record<string, unknown>>(dynamo: Dynamo, table: string, key: string, value: string): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#key = :value',
        ExpressionAttributeNames: { '#key': key },
        ExpressionAttributeValues: { ':value': value },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...((page.Items ?? []) as Item[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** Deletes every table whose name starts with `prefix` (tests clean up their own tables with it). */
export async function deleteTablesWithPrefix(dynamo: Dynamo, prefix: string): Promise<void> {
  if (!prefix) throw new Error('refusing to delete tables without a prefix');
  let start: string | undefined;
  do {
    const page = await dynamo.client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of page.TableNames ?? []) {
      if (name.startsWith(prefix)) await dynamo.client.send(new DeleteTableCommand({ TableName: name }));
    }
    start = page.LastEvaluatedTableName;
  } while (start);
}
