import { writeSchema } from '@analytica/subgraph';
import { buildNewsSchema } from './schema.js';

await writeSchema('news', await buildNewsSchema());
