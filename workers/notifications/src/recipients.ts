import type { EntityManager } from '@analytica/postgres';

export interface Recipient {
  userId: string;
  email: string;
  displayName: string;
}

/** Keeps the newest address of a user; an older registration event arriving late changes nothing. */
export async function upsertRecipient(tx: EntityManager, recipient: Recipient & { registeredAt: Date }) {
  await tx.getConnection().execute(
    `insert into recipients (user_id, email, display_name, registered_at, updated_at) values (?, ?, ?, ?, now())
     on conflict (user_id) do update set email = excluded.email, display_name = excluded.display_name,
       registered_at = excluded.registered_at, updated_at = now()
     where recipients.registered_at <= excluded.registered_at`,
    [recipient.userId, recipient.email, recipient.displayName, recipient.registeredAt],
    'run',
    tx.getTransactionContext(),
  );
}

/** A confirmed change of address (user.email-changed.v1): emails to the user go to the new one. */
export async function updateRecipientEmail(tx: EntityManager, userId: string, email: string) {
  await tx.getConnection().execute(`update recipients set email = ?, updated_at = now() where user_id = ?`, [email, userId], 'run', tx.getTransactionContext());
}

/**
 * The user's address and whether they take emails of `category`, in one round trip: every email
 * needs both. No preferences row means subscribed.
 */
export async function recipientFor(em: EntityManager, userId: string, category: string): Promise<{ recipient: Recipient | null; subscribed: boolean }> {
  const rows: { email: string | null; display_name: string | null; subscribed: boolean | null }[] = await em.getConnection().execute(
    `select r.email, r.display_name, p.subscribed
       from (select ?::text as user_id) u
       left join recipients r on r.user_id = u.user_id
       left join preferences p on p.user_id = u.user_id and p.category = ?`,
    [userId, category],
    'all',
    em.getTransactionContext(),
  );
  const row = rows[0];
  return {
    recipient: row?.email ? { userId, email: row.email, displayName: row.display_name ?? '' } : null,
    subscribed: row?.subscribed ?? true,
  };
}
