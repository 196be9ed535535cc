import { writeSchema } from '@analytica/subgraph';
import { buildUserSchema } from './schema.js';

await writeSchema('user', await buildUserSchema());
