import { Field, ID, ObjectType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';

@ObjectType('Payee', { description: 'Someone you have paid. A large payment to anyone else waits for an emailed code.' })
export class Payee {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => GraphQLDateTimeISO) createdAt!: Date;
  @Field(() => GraphQLDateTimeISO) lastPaidAt!: Date;
}
