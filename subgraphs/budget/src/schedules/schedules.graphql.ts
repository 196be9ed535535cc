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
registerEnumType(FrequencyEnum, { name: 'ScheduleFrequency' });

@Directive('@key(fields: "id")')
@ObjectType('Schedule', { description: 'A recurring transaction: posted automatically when due, or waiting for your approval.' })
export class Schedule {
  @Field(() => ID) id!: string;
  @Field(() => String) payee!: string;
  @Field(() => String, { nullable: true }) notes!: string | null;
  @Field(() => [String]) tags!: string[];
  @Field(() => FrequencyEnum) frequency!: Frequency;
  @Field(() => String, { description: 'YYYY-MM-DD.' }) startsOn!: string;
  @Field(() => String, { nullable: true, description: 'Last possible day, YYYY-MM-DD.' }) endsOn!: string | null;
  @Field(() => String, { nullable: true, description: 'The next occurrence not yet posted or skipped; null once the schedule has ended.' })
  nextOn!: string | null;
  @Field(() => Boolean, { description: 'true: the service posts each occurrence on its day; false: due occurrences wait for approval.' })
  autoPost!: boolean;
}

@InputType('CreateScheduleInput')
class CreateScheduleInput {
  @Field(() => ID) accountId!: string;
  @Field(() => MoneyInput, { description: "Negative for money out, in the account's currency." }) amount!: MoneyInput;
  @Field(() => String) payee!: string;
  @Field(() => ID, { nullable: true, description: 'When omitted, your rules choose one at posting.' }) categoryId?: string | null;
  @Field(() => String, { nullable: true }) notes?: string | null;
  @Field(() => [String], { nullable: true }) tags?: string[] | null;
  @Field(() => FrequencyEnum) frequency!: Frequency;
  @Field(() => String, {
    description:
      'The first occurrence, YYYY-MM-DD; months and years count from its day. Occurrences due more than 366 days ago are passed over (a start further back catches up a year at most); none falls after 9999-12-31.',
  })
  startsOn!: string;
  @Field(() => String, { nullable: true, description: 'No occurrence after this day.' }) endsOn?: string | null;
  @Field(() => Boolean) autoPost!: boolean;
}

@Resolver(() => Schedule)
export class ScheduleResolver {
  @Authorized()
  @Mutation(() => Schedule)
  createSchedule(@Arg('input', () => CreateScheduleInput) input: CreateScheduleInput, @Ctx() ctx: BudgetContext): Promise<ScheduleRecord> {
    return createSchedule(ctx.em, requireUser(ctx).id, input);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Ends a schedule; transactions it posted stay.' })
  async deleteSchedule(@Arg('id', () => ID) id: string, @Ctx() ctx: BudgetContext): Promise<boolean> {
    await deleteSchedule(ctx.em, requireUser(ctx).id, id);
    return true;
  }

  @Authorized()
  @Mutation(() => Transaction, { description: "Posts the due occurrence `on` (the schedule's nextOn); CONFLICT if it was posted or skipped already." })
  async approveScheduledTransaction(@Arg('id', () => ID) id: string, @Arg('on', () => String) on: string, @Ctx() ctx: BudgetContext): Promise<TransactionRecord> {
    const transaction = await approveOccurrence(ctx.em, requireUser(ctx).id, id, on);
    ctx.eventsRecorded();
    return transaction;
  }

  @Authorized()
  @Mutation(() => Schedule, { description: 'Passes over the due occurrence `on` without posting it.' })
  skipScheduledTransaction(@Arg('id', () => ID) id: string, @Arg('on', () => String) on: string, @Ctx() ctx: BudgetContext): Promise<ScheduleRecord> {
    return skipOccurrence(ctx.em, requireUser(ctx).id, id, on);
  }

  @FieldResolver(() => Money)
  amount(@Root() schedule: ScheduleRecord, @Ctx() ctx: BudgetContext): Money {
    assertOwnerOrAdmin(ctx, schedule.userId);
    return Money.of(schedule.amount, schedule.currency);
  }

  @FieldResolver(() => Account)
  async account(@Root() schedule: ScheduleRecord, @Ctx() ctx: BudgetContext): Promise<AccountRecord> {
    assertOwnerOrAdmin(ctx, schedule.userId);
    const account = await ctx.loaders.account.load(schedule.accountId);
    if (!account) throw new Error(`account ${schedule.accountId} of schedule ${schedule.id} is missing`);
    return account;
  }

  @FieldResolver(() => Category, { nullable: true })
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
