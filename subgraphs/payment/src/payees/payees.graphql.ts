import { Field, ID, ObjectType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';

@ObjectType('Payee', { description: 'Someone you have paid. A large payment to anyone else waits for an emailed code.' })
export class Payee {
  @Field(() => ID, { description: 'Id of the payee.' }) id!: string;
  @Field(() => String, { description: 'The name you paid, as given in payeeName.' }) name!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When you first paid them (UTC, ISO 8601).' }) createdAt!: Date;
  @Field(() => GraphQLDateTimeISO, { description: 'When you last paid them (UTC, ISO 8601).' }) lastPaidAt!: Date;
}
