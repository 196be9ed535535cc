import { Arg, Authorized, Ctx, Directive, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { badInput } from '@analytica/errors';
import { PageInfo } from '@analytica/subgraph';
import type { DeadLetterRecord } from './dead-letter.entity.js';
import { listDeadLetters, MAX_DEAD_LETTERS_PAGE, pageDeadLetters, replayAllDeadLetters, replayDeadLetter } from './dead-letters.js';
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

@Directive('@tag(name: "console")')
@ObjectType('PaymentDeadLetterEdge', { description: 'One dead letter in a page, with the cursor that points at it.' })
class PaymentDeadLetterEdge {
  @Field(() => String, { description: 'Opaque; pass as `after` (with the same includeReplayed) to read the dead letters that follow this one.' }) cursor!: string;
  @Field(() => PaymentDeadLetter, { description: 'The dead letter.' }) node!: PaymentDeadLetter;
}

@Directive('@tag(name: "console")')
@ObjectType('PaymentDeadLetterConnection', { description: 'A page of payment dead letters, newest first.' })
class PaymentDeadLetterConnection {
  @Field(() => [PaymentDeadLetterEdge], { description: 'The dead letters of this page, each with its cursor.' }) edges!: PaymentDeadLetterEdge[];
  @Field(() => PageInfo, { description: 'Whether there is a next page, and the cursor to ask for it.' }) pageInfo!: PageInfo;
  @Field(() => Int, { description: 'How many dead letters are listed (those not replayed yet, or all with includeReplayed), across all pages.' }) totalCount!: number;
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

/*
 * paymentDeadLetters was a plain list that stopped at 500; the connection is a new field, the old one
 * deprecated, rather than a change in place: the field's type is part of the published `console`
 * contract (a console open in a browser while the payment service rolls out, an operator's script
 * following the README would break), and the registry's check refuses such a breaking change.
 */
@Resolver()
export class DeadLetterResolver {
  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => [PaymentDeadLetter], {
    description: 'Admin: payment messages in the dead-letter topics, newest first.',
    deprecationReason: 'Use paymentDeadLettersConnection: it pages past the 500th dead letter and counts them. Deprecated 2026-12-06; to be removed after 2027-06-30.',
  })
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
  @Query(() => PaymentDeadLetterConnection, { description: 'Admin: payment messages in the dead-letter topics, newest first, a page at a time, with how many there are.' })
  async paymentDeadLettersConnection(
    @Arg('first', () => Int, { defaultValue: 50, description: `Dead letters per page, 1 to ${MAX_DEAD_LETTERS_PAGE}.` }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' }) after: string | null | undefined,
    @Arg('includeReplayed', () => Boolean, { description: 'true to list the dead letters already replayed too.', defaultValue: false }) includeReplayed: boolean,
    @Ctx() ctx: PaymentContext,
  ): Promise<PaymentDeadLetterConnection> {
    const page = await pageDeadLetters(ctx.em, { first, after, includeReplayed });
    return { ...page, edges: page.edges.map(({ cursor, node }) => ({ cursor, node: view(node) })) };
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
