import { fileURLToPath } from 'node:url';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { services, uniqueName } from '@analytica/testing';
import { describeServiceProcess } from '@analytica/testing/service-process';

const prefix = uniqueName('news_main');

describeServiceProcess({
  name: 'news',
  entry: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: () => ({ DYNAMODB_ENDPOINT: services.dynamoEndpoint, DYNAMODB_TABLE_PREFIX: `${prefix}_` }),
  // A signing key too short to be one: refused at start-up, and never echoed.
  badEnv: { PORT: 'eighty', DYNAMODB_ENDPOINT: 'not a url', SUBGRAPH_SIGNING_KEY: 'too-short-a-key' },
  dependencies: ['dynamodb'],
  cleanup: async () => {
    const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
    await deleteTablesWithPrefix(dynamo, prefix);
    dynamo.close();
  },
});
