import { Arg, Authorized, Ctx, Directive, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { badInput } from '@analytica/errors';
import type { DeadLetterRecord } from './dead-letter.entity.js';
import { listDeadLetters, replayAllDeadLetters, replayDeadLetter } from './dead-letters.js';
import type { PaymentContext } from '../context.js';

@Directive('@tag(name: "console")')
@ObjectType('PaymentDeadLetter', { description: 'A payment message that could not be processed and waits in a dead-letter topic.' })
class PaymentDeadLetter {
  @Field(() => ID, { description: 'Id of the dead letter, to replay it.' }) id!: string;
  @Field(() => String, { description: 'The topic it belongs to, e.g. payments.requested.v1.' }) sourceTopic!: string;
  @Field(() => String, { description: 'Why it was given up: the last error, or what is malformed.' }) reason!: string;
  @Field(() => String, { description: 'The message value as it was received (JSON text, or whatever arrived).' }) payload!: string;
  @Field(() => String, { description: 'The message key (the payment id for payment messages).' }) key!: string;
  @Field(() => String, { description: "The event's id when the message could be read; null for a malformed one.", nullable: true }) eventId!: string | null;
  @Field(() => Int, { description: 'Tries made before it was given up (0 for a malformed message).' }) attempts!: number;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was given up (UTC, ISO 8601).' }) deadAt!: Date;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'Set once it was sent back to its topic.' }) replayedAt!: Date | null;
}

const view = (letter: DeadLetterRecord): PaymentDeadLetter =>
  Object.assign(new PaymentDeadLetter(), {
    id: letter.id,
    sourceTopic: letter.topic.replace(/\.dlq$/, ''),
    reason: letter.reason,
    payload: letter.value,
    key: letter.key,
    eventId: letter.eventId,
    attempts: Number(letter.headers.attempt ?? 0),
    deadAt: letter.deadAt,
    replayedAt: letter.replayedAt,
  });

@Resolver()
export class DeadLetterResolver {
  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => [PaymentDeadLetter], { description: 'Admin: payment messages in the dead-letter topics, newest first.' })
  async paymentDeadLetters(
    @Arg('first', () => Int, { defaultValue: 50, description: '1 to 500.' }) first: number,
    @Arg('includeReplayed', () => Boolean, { description: 'true to list the dead letters already replayed too.', defaultValue: false }) includeReplayed: boolean,
    @Ctx() ctx: PaymentContext,
  ): Promise<PaymentDeadLetter[]> {
    if (!Number.isInteger(first) || first < 1 || first > 500) throw badInput('first', 'Ask for 1 to 500 dead letters.');
    return (await listDeadLetters(ctx.em, { first, includeReplayed })).map(view);
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => PaymentDeadLetter, { description: 'Admin: sends one dead letter back to its topic (once; a second call changes nothing).' })
  async replayPaymentDeadLetter(@Arg('id', () => ID, { description: 'A dead letter (PaymentDeadLetter.id).' }) id: string, @Ctx() ctx: PaymentContext): Promise<PaymentDeadLetter> {
    const letter = await replayDeadLetter(ctx.em, id);
    ctx.log.warn({ admin: ctx.user?.id, deadLetter: id }, 'dead letter replayed');
    ctx.pokeOutbox();
    return view(letter);
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => Int, { description: 'Admin: sends every dead letter not replayed yet back to its topic; answers how many.' })
  async replayAllPaymentDeadLetters(@Ctx() ctx: PaymentContext): Promise<number> {
    const count = await replayAllDeadLetters(ctx.em);
    ctx.log.warn({ admin: ctx.user?.id, count }, 'dead letters replayed');
    ctx.pokeOutbox();
    return count;
  }
}
