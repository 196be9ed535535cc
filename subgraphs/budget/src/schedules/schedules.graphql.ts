import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Resolver, Root, registerEnumType } from 'type-graphql';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { badInput } from '@analytica/errors';
import { Money, MoneyInput } from '@analytica/subgraph';
import type { AccountRecord } from '../accounts/account.entity.js';
import { Account } from '../accounts/accounts.graphql.js';
import { Category } from '../categories/categories.graphql.js';
import type { CategoryRecord } from '../categories/category.entity.js';
import type { BudgetContext } from '../context.js';
import type { TransactionRecord } from '../transactions/transaction.entity.js';
import { Transaction } from '../transactions/transactions.graphql.js';
import { User } from '../user/user.graphql.js';
import { ScheduleRecord, type Frequency } from './schedule.entity.js';
import { approveOccurrence, createSchedule, deleteSchedule, skipOccurrence, today, upcomingOccurrences } from './schedules.js';

enum FrequencyEnum {
  WEEKLY = 'WEEKLY',
  MONTHLY = 'MONTHLY',
  YEARLY = 'YEARLY',
}
registerEnumType(FrequencyEnum, {
  description: 'How often a schedule recurs.',
  name: 'ScheduleFrequency',
  valuesConfig: {
    WEEKLY: { description: 'Every 7 days from startsOn.' },
    MONTHLY: { description: "Every month on startsOn's day (the last day of shorter months)." },
    YEARLY: { description: "Every year on startsOn's day (28 February in other years for 29 February)." },
  },
});

@Directive('@key(fields: "id")')
@ObjectType('Schedule', { description: 'A recurring transaction: posted automatically when due, or waiting for your approval.' })
export class Schedule {
  @Field(() => ID, { description: 'Id of the schedule.' }) id!: string;
  @Field(() => String, { description: 'Payee of each posted transaction.' }) payee!: string;
  @Field(() => String, { description: 'Notes of each posted transaction.', nullable: true }) notes!: string | null;
  @Field(() => [String], { description: 'Tags of each posted transaction.' }) tags!: string[];
  @Field(() => FrequencyEnum, { description: 'How often it recurs.' }) frequency!: Frequency;
  @Field(() => String, { description: 'YYYY-MM-DD.' }) startsOn!: string;
  @Field(() => String, { nullable: true, description: 'Last possible day, YYYY-MM-DD.' }) endsOn!: string | null;
  @Field(() => String, { nullable: true, description: 'The next occurrence not yet posted or skipped; null once the schedule has ended.' })
  nextOn!: string | null;
  @Field(() => Boolean, { description: 'true: the service posts each occurrence on its day; false: due occurrences wait for approval.' })
  autoPost!: boolean;
}

@InputType('CreateScheduleInput', { description: 'A new recurring transaction (createSchedule).' })
class CreateScheduleInput {
  @Field(() => ID, { description: 'One of your accounts, to post to.' }) accountId!: string;
  @Field(() => MoneyInput, { description: "Negative for money out, in the account's currency." }) amount!: MoneyInput;
  @Field(() => String, { description: '1 to 200 characters.' }) payee!: string;
  @Field(() => ID, { nullable: true, description: 'When omitted, your rules choose one at posting.' }) categoryId?: string | null;
  @Field(() => String, { description: 'Free text copied to each posted transaction.', nullable: true }) notes?: string | null;
  @Field(() => [String], { description: 'Up to 20 tags of 1 to 40 characters, copied to each posted transaction; stored lower-case.', nullable: true }) tags?: string[] | null;
  @Field(() => FrequencyEnum, { description: 'How often it recurs.' }) frequency!: Frequency;
  @Field(() => String, {
    description:
      'The first occurrence, YYYY-MM-DD; months and years count from its day. Occurrences due more than 366 days ago are passed over (a start further back catches up a year at most); none falls after 9999-12-31.',
  })
  startsOn!: string;
  @Field(() => String, { nullable: true, description: 'No occurrence after this day.' }) endsOn?: string | null;
  @Field(() => Boolean, { description: 'true: each occurrence is posted on its day; false: due occurrences wait for approveScheduledTransaction.' }) autoPost!: boolean;
}

@Resolver(() => Schedule)
export class ScheduleResolver {
  @Authorized()
  @Mutation(() => Schedule, { description: 'Creates a recurring transaction on one of your accounts.' })
  createSchedule(
    @Arg('input', () => CreateScheduleInput, { description: 'The schedule to create.' }) input: CreateScheduleInput,
    @Ctx() ctx: BudgetContext,
  ): Promise<ScheduleRecord> {
    return createSchedule(ctx.em, requireUser(ctx).id, input);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Ends a schedule; transactions it posted stay.' })
  async deleteSchedule(@Arg('id', () => ID, { description: 'One of your schedules.' }) id: string, @Ctx() ctx: BudgetContext): Promise<boolean> {
    await deleteSchedule(ctx.em, requireUser(ctx).id, id);
    return true;
  }

  @Authorized()
  @Mutation(() => Transaction, { description: "Posts the due occurrence `on` (the schedule's nextOn); CONFLICT if it was posted or skipped already." })
  async approveScheduledTransaction(
    @Arg('id', () => ID, { description: 'One of your schedules.' }) id: string,
    @Arg('on', () => String, { description: "The occurrence's day, YYYY-MM-DD (the schedule's nextOn)." }) on: string,
    @Ctx() ctx: BudgetContext,
  ): Promise<TransactionRecord> {
    const transaction = await approveOccurrence(ctx.em, requireUser(ctx).id, id, on);
    ctx.eventsRecorded();
    return transaction;
  }

  @Authorized()
  @Mutation(() => Schedule, { description: 'Passes over the due occurrence `on` without posting it.' })
  skipScheduledTransaction(
    @Arg('id', () => ID, { description: 'One of your schedules.' }) id: string,
    @Arg('on', () => String, { description: "The occurrence's day, YYYY-MM-DD (the schedule's nextOn)." }) on: string,
    @Ctx() ctx: BudgetContext,
  ): Promise<ScheduleRecord> {
    return skipOccurrence(ctx.em, requireUser(ctx).id, id, on);
  }

  @FieldResolver(() => Money, { description: "Amount of each occurrence, signed (negative is money out), in the account's currency." })
  amount(@Root() schedule: ScheduleRecord, @Ctx() ctx: BudgetContext): Money {
    assertOwnerOrAdmin(ctx, schedule.userId);
    return Money.of(schedule.amount, schedule.currency);
  }

  @FieldResolver(() => Account, { description: 'The account it posts to.' })
  async account(@Root() schedule: ScheduleRecord, @Ctx() ctx: BudgetContext): Promise<AccountRecord> {
    assertOwnerOrAdmin(ctx, schedule.userId);
    const account = await ctx.loaders.account.load(schedule.accountId);
    if (!account) throw new Error(`account ${schedule.accountId} of schedule ${schedule.id} is missing`);
    return account;
  }

  @FieldResolver(() => Category, { description: 'The category it posts with; null when your rules choose.', nullable: true })
  async category(@Root() schedule: ScheduleRecord, @Ctx() ctx: BudgetContext): Promise<CategoryRecord | null> {
    assertOwnerOrAdmin(ctx, schedule.userId);
    return schedule.categoryId ? ((await ctx.loaders.category.load(schedule.categoryId)) ?? null) : null;
  }

  @FieldResolver(() => [String], { description: 'The next occurrences not yet posted or skipped, from nextOn (YYYY-MM-DD).' })
  upcoming(@Root() schedule: ScheduleRecord, @Ctx() ctx: BudgetContext, @Arg('count', () => Int, { defaultValue: 5, description: '1 to 100.' }) count: number): string[] {
    assertOwnerOrAdmin(ctx, schedule.userId);
    if (!Number.isInteger(count) || count < 1 || count > 100) throw badInput('count', 'Ask for 1 to 100 occurrences.');
    return schedule.nextOn === null ? [] : upcomingOccurrences(schedule, schedule.nextIndex, count);
  }

  @FieldResolver(() => [String], { description: 'Occurrences due today or earlier that wait for approval (empty for auto-posting schedules).' })
  awaitingApproval(@Root() schedule: ScheduleRecord, @Ctx() ctx: BudgetContext): string[] {
    assertOwnerOrAdmin(ctx, schedule.userId);
    if (schedule.autoPost || schedule.nextOn === null) return [];
    const due = today();
    return upcomingOccurrences(schedule, schedule.nextIndex, 100).filter((day) => day <= due);
  }
}

@Resolver(() => User)
export class UserSchedulesResolver {
  @Authorized()
  @FieldResolver(() => [Schedule], { nullable: true, description: 'Your recurring transactions, next due first.' })
  schedules(@Root() user: User, @Ctx() ctx: BudgetContext): Promise<ScheduleRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return ctx.em.find(ScheduleRecord, { userId: user.id }, { orderBy: [{ nextOn: 'asc' }, { id: 'asc' }] });
  }
}
