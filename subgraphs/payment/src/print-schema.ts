import { writeSchema } from '@analytica/subgraph';
import { buildPaymentSchema } from './schema.js';

await writeSchema('payment', await buildPaymentSchema());
