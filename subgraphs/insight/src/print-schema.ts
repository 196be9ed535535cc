import { writeSchema } from '@analytica/subgraph';
import { buildInsightSchema } from './schema.js';

await writeSchema('insight', await buildInsightSchema());
