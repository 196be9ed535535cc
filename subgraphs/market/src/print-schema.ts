import { writeSchema } from '@analytica/subgraph';
import { buildMarketSchema } from './schema.js';

await writeSchema('market', await buildMarketSchema());
