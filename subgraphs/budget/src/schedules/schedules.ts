import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { AppError, ErrorCode, badInput, notFound } from '@analytica/errors';
import type { Logger } from '@analytica/logger';
import type { Database, EntityManager } from '@analytica/postgres';
import { isUuid, ownedOrNotFound } from '@analytica/subgraph/access';
import { AccountRecord } from '../accounts/account.entity.js';
import { assertBalancesExact } from '../accounts/accounts.js';
import { reviewBudgets } from '../budgets/budgets.js';
import { usableCategories } from '../categories/categories.js';
import { isoDate, parseDay } from '../days.js';
import { categoryByRules } from '../rules/rules.js';
import type { TransactionRecord } from '../transactions/transaction.entity.js';
import { bookTransaction, checkAmount, checkNotes, checkPayee, checkTags, spendingLines } from '../transactions/transactions.js';
import { FREQUENCIES, ScheduleRecord, type Frequency } from './schedule.entity.js';

/** No occurrence falls after this day: the ledger's dates have four-digit years. */
export const LAST_DAY = '9999-12-31';

/** The day of occurrence `n` of a schedule (YYYY-MM-DD), or null when it would fall after LAST_DAY. */
export function occurrenceOn(startsOn: string, frequency: Frequency, n: number): string | null {
  const start = new Date(`${startsOn}T00:00:00Z`);
  let day: Date;
  if (frequency === 'WEEKLY') day = new Date(start.getTime() + n * 7 * 86_400_000);
  else {
    const months = frequency === 'MONTHLY' ? n : 12 * n;
    const year = start.getUTCFullYear() + Math.floor((start.getUTCMonth() + months) / 12);
    const month = (start.getUTCMonth() + months) % 12;
    const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
    day = new Date(Date.UTC(year, month, Math.min(start.getUTCDate(), lastDay)));
  }
  return Number.isNaN(day.getTime()) || day.getUTCFullYear() > 9999 ? null : isoDate(day);
}

/** The first occurrence on or after `day` (its index; its day is null past LAST_DAY), without walking the ones before. */
export function firstOccurrenceFrom(startsOn: string, frequency: Frequency, day: string): { index: number; on: string | null } {
  const start = new Date(`${startsOn}T00:00:00Z`);
  const target = new Date(`${day}T00:00:00Z`);
  let index = 0;
  if (target > start) {
    const months = (target.getUTCFullYear() - start.getUTCFullYear()) * 12 + target.getUTCMonth() - start.getUTCMonth();
    const estimate =
      frequency === 'WEEKLY' ? Math.floor((target.getTime() - start.getTime()) / (7 * 86_400_000)) : frequency === 'MONTHLY' ? months - 1 : Math.floor(months / 12) - 1;
    index = Math.max(0, estimate);
  }
  let on = occurrenceOn(startsOn, frequency, index);
  // The estimate is at most a step or two short.
  while (on !== null && on < day) on = occurrenceOn(startsOn, frequency, ++index);
  return { index, on };
}

/** The next `count` occurrences from `fromIndex`, stopping at the end date (and at LAST_DAY). */
export function upcomingOccurrences(schedule: Pick<ScheduleRecord, 'startsOn' | 'frequency' | 'endsOn'>, fromIndex: number, count: number): string[] {
  const days: string[] = [];
  for (let n = fromIndex; days.length < count; n++) {
    const day = occurrenceOn(schedule.startsOn, schedule.frequency, n);
    if (day === null || (schedule.endsOn && day > schedule.endsOn)) break;
    days.push(day);
  }
  return days;
}

/**
 * How far back a schedule catches up: occurrences that fell due more than this many days ago are
 * passed over, never booked, so one schedule (e.g. weekly from 1900 with autoPost) books at most a
 * year of occurrences (53 weekly) instead of thousands.
 */
export const CATCH_UP_DAYS = 366;

/** The first day whose occurrence is still booked (or offered for approval) when it is due. */
export const catchUpFrom = (now: Date) => isoDate(new Date(now.getTime() - CATCH_UP_DAYS * 86_400_000));

/** Moves a schedule whose next occurrence is older than the catch-up window to its first occurrence within it. */
function skipToWindow(schedule: Pick<ScheduleRecord, 'startsOn' | 'frequency' | 'endsOn' | 'nextIndex' | 'nextOn'>, now: Date) {
  const from = catchUpFrom(now);
  if (schedule.nextOn === null || schedule.nextOn >= from) return;
  const next = firstOccurrenceFrom(schedule.startsOn, schedule.frequency, from);
  schedule.nextIndex = next.index;
  schedule.nextOn = next.on === null || (schedule.endsOn && next.on > schedule.endsOn) ? null : next.on;
}

export const today = (now = new Date()) => isoDate(now);

export interface ScheduleEntry {
  accountId: string;
  amount: { amountMinor: number; currency: string };
  payee: string;
  categoryId?: string | null;
  notes?: string | null;
  tags?: string[] | null;
  frequency: Frequency;
  startsOn: string;
  endsOn?: string | null;
  autoPost: boolean;
}

export async function createSchedule(em: EntityManager, userId: string, input: ScheduleEntry, now = new Date()): Promise<ScheduleRecord> {
  const { amount, currency } = checkAmount(input.amount, 'input.amount');
  const payee = checkPayee(input.payee, 'input.payee');
  const notes = checkNotes(input.notes, 'input.notes');
  const tags = checkTags(input.tags, 'input.tags');
  if (!FREQUENCIES.includes(input.frequency)) throw badInput('input.frequency', `Use one of ${FREQUENCIES.join(', ')}.`);
  const startsOn = isoDate(parseDay(input.startsOn, 'input.startsOn'));
  const endsOn = input.endsOn == null ? null : isoDate(parseDay(input.endsOn, 'input.endsOn'));
  if (endsOn && endsOn < startsOn) throw badInput('input.endsOn', 'The end date cannot be before the start date.');
  if (!isUuid(input.accountId)) throw notFound('Account', input.accountId, 'input.accountId');

  return em.transactional(async (tx) => {
    const account = ownedOrNotFound(userId, await tx.findOne(AccountRecord, { id: input.accountId }), 'Account', input.accountId, 'input.accountId');
    if (account.currency !== currency) throw badInput('input.amount.currency', `Account "${account.name}" is kept in ${account.currency}.`);
    if (input.categoryId) await usableCategories(tx, userId, [{ id: input.categoryId, field: 'input.categoryId' }]);
    // A start long ago catches up within the window only (CATCH_UP_DAYS).
    const first = { startsOn, frequency: input.frequency, endsOn, nextIndex: 0, nextOn: startsOn as string | null };
    skipToWindow(first, now);
    return tx.create(ScheduleRecord, {
      id: randomUUID(),
      userId,
      accountId: account.id,
      categoryId: input.categoryId ?? null,
      amount,
      currency,
      payee,
      notes,
      tags,
      frequency: input.frequency,
      startsOn,
      endsOn,
      nextIndex: first.nextIndex,
      nextOn: first.nextOn,
      autoPost: input.autoPost,
      version: 1,
      createdAt: new Date(),
    });
  });
}

export async function deleteSchedule(em: EntityManager, userId: string, id: string): Promise<void> {
  if (!isUuid(id)) throw notFound('Schedule', id, 'id');
  await em.transactional(async (tx) => {
    tx.remove(ownedOrNotFound(userId, await tx.findOne(ScheduleRecord, { id }), 'Schedule', id, 'id'));
  });
}

function advance(schedule: ScheduleRecord) {
  schedule.nextIndex += 1;
  const next = occurrenceOn(schedule.startsOn, schedule.frequency, schedule.nextIndex);
  schedule.nextOn = next === null || (schedule.endsOn && next > schedule.endsOn) ? null : next;
}

/** Books the schedule's next occurrence (rules fill in a missing category) and moves it on. */
async function postNext(tx: EntityManager, schedule: ScheduleRecord): Promise<TransactionRecord> {
  const day = schedule.nextOn!;
  const categoryId =
    schedule.categoryId ?? (await categoryByRules(tx, schedule.userId, { payee: schedule.payee, notes: schedule.notes, amount: schedule.amount, currency: schedule.currency }));
  const { transaction } = bookTransaction(tx, {
    id: randomUUID(),
    userId: schedule.userId,
    accountId: schedule.accountId,
    categoryId,
    amount: schedule.amount,
    currency: schedule.currency,
    bookedAt: new Date(`${day}T00:00:00Z`),
    payee: schedule.payee,
    notes: schedule.notes,
    tags: schedule.tags,
    transferId: null,
    scheduleId: schedule.id,
    scheduledOn: day,
    importId: null,
    externalId: null,
  });
  advance(schedule);
  return transaction;
}

/** Locks a schedule and checks that `on` is its next occurrence and is due. */
async function lockOccurrence(tx: EntityManager, userId: string, id: string, on: string, now: Date) {
  if (!isUuid(id)) throw notFound('Schedule', id, 'id');
  const day = isoDate(parseDay(on, 'on'));
  const schedule = ownedOrNotFound(userId, await tx.findOne(ScheduleRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true }), 'Schedule', id, 'id');
  if (schedule.nextOn !== day) {
    throw new AppError(
      ErrorCode.CONFLICT,
      schedule.nextOn
        ? `The next occurrence of this schedule is ${schedule.nextOn}, not ${day}: it was posted or skipped already.`
        : 'This schedule has ended; it has no occurrence left.',
      { field: 'on', nextOn: schedule.nextOn },
    );
  }
  if (day > today(now)) throw badInput('on', `The occurrence on ${day} is not due yet.`);
  return schedule;
}

/** Posts a due occurrence that was waiting for approval. */
export async function approveOccurrence(em: EntityManager, userId: string, id: string, on: string, now = new Date()): Promise<TransactionRecord> {
  return em.transactional(async (tx) => {
    const schedule = await lockOccurrence(tx, userId, id, on, now);
    if (schedule.categoryId) await usableCategories(tx, userId, [{ id: schedule.categoryId, field: 'id' }]);
    const transaction = await postNext(tx, schedule);
    await tx.flush();
    await assertBalancesExact(tx, [schedule.accountId], 'id');
    await reviewBudgets(tx, userId, spendingLines(transaction, []));
    return transaction;
  });
}

/** Passes over a due occurrence without booking it. */
export async function skipOccurrence(em: EntityManager, userId: string, id: string, on: string, now = new Date()): Promise<ScheduleRecord> {
  return em.transactional(async (tx) => {
    const schedule = await lockOccurrence(tx, userId, id, on, now);
    advance(schedule);
    return schedule;
  });
}

/** At most this many occurrences of one schedule per pass, so that a long-past start cannot hold a transaction open. */
const CATCH_UP = 100;

/**
 * Posts every due occurrence of auto-posting schedules, each schedule in its own database
 * transaction. Rows are claimed with SKIP LOCKED, so several replicas can run this side by side
 * and an occurrence is still booked once (the (schedule, day) unique index is the last guard).
 */
export async function postDueSchedules(db: Database, now = new Date(), logger?: Logger): Promise<number> {
  const day = today(now);
  let posted = 0;
  const ids: { id: string }[] = await db.fork().getConnection().execute('select id from schedules where auto_post and next_on <= ? order by next_on limit 500', [day]);
  for (const { id } of ids) {
    try {
      posted += await db.fork().transactional(async (tx) => {
        const [locked] = await tx
          .getConnection()
          .execute<{ id: string }[]>('select id from schedules where id = ? and auto_post and next_on <= ? for update skip locked', [id, day], 'all', tx.getTransactionContext());
        if (!locked) return 0;
        const schedule = await tx.findOneOrFail(ScheduleRecord, { id }, { refresh: true });
        // Schedules stored before the catch-up window existed may lag further behind.
        skipToWindow(schedule, now);
        const booked: TransactionRecord[] = [];
        while (schedule.nextOn && schedule.nextOn <= day && booked.length < CATCH_UP) booked.push(await postNext(tx, schedule));
        await tx.flush();
        // Occurrences that would take the balance beyond the exact range are not booked (the
        // whole pass of this schedule rolls back) and the schedule stays due, as for any failure.
        await assertBalancesExact(tx, [schedule.accountId], 'amount');
        await reviewBudgets(
          tx,
          schedule.userId,
          booked.flatMap((t) => spendingLines(t, [])),
        );
        return booked.length;
      });
    } catch (error) {
      // A refusal of the schedule's own data (its amounts beyond the exact range) is not a fault here.
      if (error instanceof AppError && error.extensions.code === ErrorCode.BAD_USER_INPUT)
        logger?.warn({ scheduleId: id, reason: error.message }, 'a due schedule was not posted; it stays due');
      else logger?.error({ err: error, scheduleId: id }, 'posting a due schedule failed; it stays due');
    }
  }
  return posted;
}

/** Runs postDueSchedules every `intervalMs` until stopped. */
export function startSchedulePoster(options: { db: Database; logger: Logger; intervalMs: number; onPosted: () => void }) {
  let running = true;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();
  const tick = () => {
    pass = postDueSchedules(options.db, new Date(), options.logger)
      .then((posted) => {
        if (posted > 0) {
          options.logger.info({ posted }, 'scheduled transactions posted');
          options.onPosted();
        }
      })
      .catch((error: unknown) => options.logger.error({ err: error }, 'schedule pass failed'))
      .finally(() => {
        if (running) timer = setTimeout(tick, options.intervalMs);
      });
  };
  tick();
  return {
    async stop() {
      running = false;
      clearTimeout(timer);
      await pass;
    },
  };
}
