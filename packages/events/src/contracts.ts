import { z } from 'zod';

/**
 * One zod contract per Kafka topic. Topic names are `<domain>.<event>.v<N>`; a breaking change
 * is a new topic version, never an edit of an old contract. Money is a string of integer minor
 * units (bigint-safe) plus an ISO 4217 code; times are ISO 8601 UTC.
 */
const id = z.string().min(1);
const isoTime = z.iso.datetime();
const minorUnits = z.string().regex(/^-?\d+$/, 'must be an integer count of minor units');
const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code');
/**
 * Every status a payment can take, in the order of its life: the one list the payment service's
 * state machine, its GraphQL enum and every consumer of payment events use.
 */
export const PAYMENT_STATUSES = ['REQUIRES_ACTION', 'QUEUED', 'PROCESSING', 'SUCCEEDED', 'FAILED', 'CANCELED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
const paymentStatus = z.enum(PAYMENT_STATUSES);
/** The parts of a split transaction (empty when it is not split); they sum to its amount. */
const transactionSplits = z.array(z.object({ categoryId: id.nullable(), amountMinor: minorUnits }));

export const contracts = {
  'user.registered.v1': z.object({
    userId: id,
    email: z.email(),
    displayName: z.string(),
    registeredAt: isoTime,
    // Optional, so that events written before verification existed stay valid. The notifications
    // worker mails it as a link; the user service keeps only its hash and accepts it once.
    verificationToken: z.string().min(16).max(100).optional(),
    verificationExpiresAt: isoTime.optional(),
  }),
  /**
   * A user's sign-in address changed (confirmed with the link sent to the new address). The
   * notifications worker writes to the new address from then on and tells the previous one.
   */
  'user.email-changed.v1': z.object({
    userId: id,
    previousEmail: z.email(),
    email: z.email(),
    changedAt: isoTime,
  }),
  'transactions.recorded.v1': z.object({
    userId: id,
    transactionId: id,
    accountId: id,
    categoryId: id.nullable(),
    amountMinor: minorUnits,
    currency,
    payee: z.string(),
    bookedAt: isoTime,
    // Optional, so that messages written before they existed still pass. A split transaction has
    // categoryId null and its categories here; the two legs of a transfer share a transferId.
    splits: transactionSplits.optional(),
    transferId: id.nullable().optional(),
    /** The name of categoryId when it was recorded (for messages that show it, e.g. anomaly insights). */
    categoryName: z.string().nullable().optional(),
  }),
  /** A transaction after an edit, with what it was before, so that aggregates can move the amount. */
  'transactions.updated.v1': z.object({
    userId: id,
    transactionId: id,
    version: z.number().int().positive(),
    accountId: id,
    categoryId: id.nullable(),
    amountMinor: minorUnits,
    currency,
    payee: z.string(),
    bookedAt: isoTime,
    splits: transactionSplits,
    /** Set on a transfer leg (budget never makes a transaction a transfer or undoes it by an edit). Optional: added later. */
    transferId: id.nullable().optional(),
    previous: z.object({
      accountId: id,
      categoryId: id.nullable(),
      amountMinor: minorUnits,
      currency,
      bookedAt: isoTime,
      splits: transactionSplits,
    }),
  }),
  'transactions.deleted.v1': z.object({
    userId: id,
    transactionId: id,
    accountId: id,
    categoryId: id.nullable(),
    amountMinor: minorUnits,
    currency,
    bookedAt: isoTime,
    splits: transactionSplits,
    /** Set on a transfer leg (its other leg is deleted with it). Optional: added later. */
    transferId: id.nullable().optional(),
    deletedAt: isoTime,
  }),
  /**
   * A category suggested by the inference worker for a transaction the user's rules left
   * uncategorised. `category` is a name from the model's taxonomy (the user's own categories are
   * matched by name by whoever shows it); `transactionVersion` lets a consumer keep the newest.
   */
  'transactions.categorised.v1': z.object({
    userId: id,
    transactionId: id,
    transactionVersion: z.number().int().positive(),
    category: z.string().min(1),
    confidence: z.number().min(0).max(1),
    alternatives: z.array(z.object({ category: z.string().min(1), confidence: z.number().min(0).max(1) })),
    model: z.string().min(1),
    modelVersion: z.string().min(1),
    suggestedAt: isoTime,
  }),
  /** A spending transaction the anomaly model scored at or above its alert threshold. */
  'transactions.anomalous.v1': z.object({
    userId: id,
    transactionId: id,
    accountId: id,
    amountMinor: minorUnits,
    currency,
    payee: z.string(),
    bookedAt: isoTime,
    score: z.number().min(0).max(1),
    threshold: z.number().min(0).max(1),
    kind: z.enum(['DUPLICATE', 'AMOUNT', 'PAYEE', 'TIMING']),
    reason: z.string().min(1),
    /**
     * The category it was judged under, by name: the user's own (categoryName of the recorded
     * event), else the model's suggestion; null for a split or when unknown. Optional: added later.
     */
    category: z.string().nullable().optional(),
    /** True when `category` is the model's suggestion, not the user's category. */
    categorySuggested: z.boolean().optional(),
    model: z.string().min(1),
    modelVersion: z.string().min(1),
    detectedAt: isoTime,
  }),
  'payments.requested.v1': z.object({
    userId: id,
    paymentId: id,
    bankAccountId: id,
    amountMinor: minorUnits,
    currency,
    payeeName: z.string(),
    requestedAt: isoTime,
  }),
  /**
   * Every status a payment takes, written with the change (outbox). Key: the user id, so that one
   * user's payments stay in order; `previousStatus` is null when the payment is created.
   */
  'payments.status-changed.v1': z.object({
    userId: id,
    paymentId: id,
    bankAccountId: id,
    status: paymentStatus,
    previousStatus: paymentStatus.nullable(),
    reason: z.string().nullable(),
    amountMinor: minorUnits,
    currency,
    payeeName: z.string(),
    reference: z.string(),
    bankReference: z.string().nullable(),
    changedAt: isoTime,
  }),
  'market.ticks.v1': z.object({
    symbol: z.string().min(1),
    // GLOBAL: the crypto and currency pairs, which trade around the clock (sessionDate is then the UTC day).
    region: z.enum(['US', 'EU', 'APAC', 'GLOBAL']),
    bid: z.number().positive(),
    ask: z.number().positive(),
    last: z.number().positive(),
    size: z.number().int().nonnegative(),
    exchangeTime: isoTime,
    // Strictly increasing per symbol, across feed restarts too: a consumer applies a tick once by
    // comparing it with the last sequence it applied, so redelivered ticks change nothing.
    seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    // Absent means OPEN. CLOSED marks the status message a venue sends when it stops trading (size 0).
    marketState: z.enum(['OPEN', 'CLOSED']).optional(),
    // The venue's local trading date; daily candles and previousClose follow the venue's session,
    // not the UTC day (Sydney trades across midnight UTC). Absent means the UTC date of exchangeTime.
    sessionDate: z.iso.date().optional(),
  }),
  'budget.overspent.v1': z.object({
    userId: id,
    budgetId: id,
    categoryId: id,
    period: z.enum(['MONTHLY', 'WEEKLY']),
    startsOn: z.iso.date(),
    limitMinor: minorUnits,
    spentMinor: minorUnits,
    currency,
    crossedAt: isoTime,
  }),
  /**
   * A budget as it now stands: created, its amount replaced (setBudget), or copied from the period
   * before (copyBudgets). Key: the user id. Insight keeps the newest (`setAt`) per budget id, to
   * forecast each budget's end-of-period spending against its limit.
   */
  'budget.set.v1': z.object({
    userId: id,
    budgetId: id,
    categoryId: id,
    /** The category's name when the budget was set, for texts that show it. */
    categoryName: z.string().nullable(),
    period: z.enum(['MONTHLY', 'WEEKLY']),
    startsOn: z.iso.date(),
    limitMinor: minorUnits,
    currency,
    setAt: isoTime,
  }),
  'market.price-alert.v1': z.object({
    userId: id,
    alertId: id,
    symbol: z.string().min(1),
    direction: z.enum(['ABOVE', 'BELOW']),
    threshold: z.number().positive(),
    price: z.number().positive(),
    triggeredAt: isoTime,
  }),
  /**
   * An article from the news sources, as news-ingest last read it: one story stored once however
   * many feeds carry it (deduplicated by canonical URL and content hash), with every source that
   * does. Key: the article id. A new source or changed text is a new event with a higher
   * `revision`; consumers keep the highest.
   */
  'news.published.v1': z.object({
    articleId: z.string().regex(/^[a-z0-9][a-z0-9-]{2,119}$/),
    revision: z.number().int().positive(),
    canonicalUrl: z.url({ protocol: /^https?$/ }),
    url: z.url({ protocol: /^https?$/ }),
    title: z.string().min(1).max(500),
    summary: z.string().min(1).max(1000),
    body: z.string().min(1).max(50_000),
    sources: z.array(z.string().min(1).max(100)).min(1),
    topics: z.array(z.string().regex(/^[a-z][a-z0-9-]{0,39}$/)).max(10),
    symbols: z.array(z.string().regex(/^[A-Z0-9][A-Z0-9.-]{0,19}$/)).max(20),
    publishedAt: isoTime,
    updatedAt: isoTime,
    contentHash: z.string().regex(/^[0-9a-f]{64}$/),
    /** The headline's sentiment from -1 (negative) to 1 (positive), from news-ingest's model; absent from older events. */
    sentiment: z.number().min(-1).max(1).optional(),
    /** The version of the sentiment model that scored it. */
    sentimentModel: z.string().min(1).max(40).optional(),
    /** The sentiment for each of `symbols` (from the sentences that name it), by the same model; absent from older events. */
    tickerSentiments: z
      .array(z.object({ symbol: z.string().regex(/^[A-Z0-9][A-Z0-9.-]{0,19}$/), score: z.number().min(-1).max(1) }))
      .max(20)
      .optional(),
    /**
     * The picture the source gives the story (RSS enclosure, Atom enclosure link, the JSON API's
     * imageUrl); absent when it gives none. The news service fetches it once and serves its own copy.
     */
    imageUrl: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .optional(),
  }),
  /**
   * One thing a reader did with an article through the API (news subgraph): opened it (VIEW, once per
   * reader), clicked through to its source (CLICK, every click), liked or saved it, or took that back,
   * or read it for a while (DWELL, with dwellMs; every session is one). Only changes are events: a
   * second like of the same article records nothing and publishes nothing. Key: `<region>#<userId>`
   * (the architecture's sharding: region, then user), so one reader's events stay in order. Written to
   * the news service's DynamoDB outbox right after the interaction and relayed at least once:
   * consumers deduplicate by `eventId` (also the `event-id` header). The relay also keeps every event
   * in the DynamoDB interaction log under the same `<region>#<userId>`, sorted by content type.
   */
  'user.interactions.v1': z.object({
    eventId: z.uuid(),
    userId: id,
    /**
     * The news service's deployment region (NEWS_REGION, e.g. EU): the first level of the sharding.
     * Optional only because events published before it existed lack it (and were keyed by the user
     * id alone); every event published since carries it.
     */
    region: z
      .string()
      .regex(/^[A-Z]{2,16}$/)
      .optional(),
    articleId: z.string().min(1).max(200),
    /** What the interaction is about (the log's sort key starts with it); articles only so far. */
    contentType: z.enum(['ARTICLE']),
    kind: z.enum(['VIEW', 'CLICK', 'LIKE', 'UNLIKE', 'SAVE', 'UNSAVE', 'DWELL']),
    /** DWELL only: how long the article was on screen in one reading session (recordArticleDwell). */
    dwellMs: z.number().int().min(1).max(3_600_000).optional(),
    occurredAt: isoTime,
  }),
  /**
   * One email to send. Without `to`, the notifications worker sends it to the user's registered
   * address (services other than user do not know it). `one-time-code` carries a code the user
   * types back (bank account verification, payment confirmation); it ignores preferences.
   */
  'notifications.email.v1': z.object({
    userId: id,
    to: z.email().optional(),
    template: z.enum([
      'welcome',
      'payment-result',
      'budget-overspent',
      'price-alert',
      'anomaly',
      'one-time-code',
      'registration-attempt',
      'password-reset',
      'email-change-verification',
      'email-changed',
      'digest',
    ]),
    data: z.record(z.string(), z.unknown()),
  }),
} as const;

export type Topic = keyof typeof contracts;
export type EventPayload<T extends Topic> = z.infer<(typeof contracts)[T]>;
