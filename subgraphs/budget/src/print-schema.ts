import { writeSchema } from '@analytica/subgraph';
import { buildBudgetSchema } from './schema.js';

await writeSchema('budget', await buildBudgetSchema());
