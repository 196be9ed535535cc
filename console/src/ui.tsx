import type { ReactNode } from 'react';
import { isMissingFromSchema, problemsOf } from './errors';

/** A request's failure in words: what the API said, with its code. */
export function Problems({ error }: { error: unknown }) {
  const problems = problemsOf(error);
  if (problems.length === 0) return null;
  if (isMissingFromSchema(problems)) {
    return (
      <p className="note unavailable" role="status">
        Not available on this gateway: its schema has no such field yet ({problems[0]!.message}).
      </p>
    );
  }
  if (problems.some((p) => p.code === 'FORBIDDEN')) {
    return (
      <p className="note error" role="alert">
        Administrators only.
      </p>
    );
  }
  return (
    <ul className="note error" role="alert">
      {problems.map((p, n) => (
        <li key={n}>
          {p.message}
          {p.code ? <code> {p.code}</code> : null}
        </li>
      ))}
    </ul>
  );
}

/** A page part whose data may be unavailable (a store that is down): its reason, not an error. */
export function Unavailable({ reason }: { reason?: string | null }) {
  return (
    <p className="note unavailable" role="status">
      Unavailable: {reason ?? 'no reason given'}
    </p>
  );
}

/** Loading, failed or loaded: the one way every page shows a query's state. */
export function Loaded<T>({ loading, error, data, children }: { loading: boolean; error?: unknown; data: T | undefined; children: (data: T) => ReactNode }) {
  if (error) return <Problems error={error} />;
  if (data === undefined) return loading ? <p className="muted">Loading…</p> : null;
  return <>{children(data)}</>;
}

export function Section({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <section>
      <header className="section-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

const timeFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' });
/** Times as the API gives them (UTC), in a readable form. */
export const Time = ({ at }: { at?: string | null }) =>
  at ? (
    <time className="nowrap" dateTime={at}>
      {timeFormat.format(new Date(at))} UTC
    </time>
  ) : (
    <span className="muted">—</span>
  );

/** A long id (a UUID) in little room: its first characters, the whole of it on hover. */
export const ShortId = ({ id }: { id?: string | null }) => (id ? <code title={id}>{id.length > 12 ? `${id.slice(0, 8)}…` : id}</code> : <span className="muted">—</span>);

/** A datetime-local input's value (read as UTC) as ISO 8601, or undefined when empty. */
export const isoOf = (local: string) => (local ? new Date(`${local}:00Z`).toISOString() : undefined);

/**
 * Under a connection's rows: how many are shown (of how many, when the list is counted), and a
 * button that appends the next page while there is one.
 */
export function More({ shown, total, hasNextPage, onMore }: { shown: number; total?: number; hasNextPage: boolean; onMore: () => void }) {
  if (shown === 0 && !hasNextPage) return null;
  return (
    <div className="actions">
      {total !== undefined ? <span className="muted">{`Showing ${shown} of ${total}.`}</span> : null}
      {hasNextPage ? (
        <button type="button" onClick={onMore}>
          More
        </button>
      ) : null}
    </div>
  );
}

/** A table with one header row; the children are its body's rows. */
export function Table({ headers, className, children }: { headers: ReactNode[]; className?: string; children: ReactNode }) {
  return (
    <table className={className}>
      <thead>
        <tr>
          {headers.map((header, i) => (
            <th key={i}>{header}</th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
