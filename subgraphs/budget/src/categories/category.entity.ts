import { EntitySchema } from '@mikro-orm/core';

export type CategoryKind = 'INCOME' | 'EXPENSE';

export class CategoryRecord {
  id!: string;
  userId!: string;
  name!: string;
  group!: string;
  kind!: CategoryKind;
  createdAt!: Date;
  archivedAt: Date | null = null;
}
export const CategorySchema = new EntitySchema<CategoryRecord>({
  class: CategoryRecord,
  tableName: 'categories',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    name: { type: 'string' },
    group: { type: 'string', fieldName: 'group_name' },
    kind: { type: 'string' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    archivedAt: { type: 'Date', fieldName: 'archived_at', nullable: true },
  },
});
