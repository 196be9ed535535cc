import { gql } from '@apollo/client';
import { useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { useRoute } from '../router';
import { isoOf, Loaded, Section, ShortId, Table, Time } from '../ui';

const AUDIT_LOG = gql(`
  query ConsoleAuditLog($filter: AuditLogFilter, $after: String) {
    auditLog(first: 50, filter: $filter, after: $after) {
      edges { node { id at action actorId subjectId email ip detail } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

/** The actions the filter offers (the API's AuditAction enum, most asked-for first). */
const ACTIONS = [
  'LOGIN_SUCCEEDED',
  'LOGIN_FAILED',
  'ACCOUNT_LOCKED',
  'LOGIN_REFUSED_DISABLED',
  'USER_DISABLED',
  'USER_ENABLED',
  'ROLE_CHANGED',
  'SESSIONS_REVOKED',
  'TOTP_ENABLED',
  'TOTP_DISABLED',
  'PASSWORD_CHANGED',
  'PASSWORD_RESET',
  'REFRESH_TOKEN_REUSED',
  'USER_REGISTERED',
  'USERS_LISTED',
  'USER_VIEWED',
  'AUDIT_LOG_READ',
  'PARTNER_CREATED',
  'PARTNER_SUSPENDED',
  'PARTNER_DELETED',
];

interface AuditData {
  auditLog: {
    edges: { node: { id: string; at: string; action: string; actorId: string | null; subjectId: string | null; email: string | null; ip: string | null; detail: unknown } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

export function AuditPage() {
  const { params } = useRoute();
  const [userId, setUserId] = useState(params.get('userId') ?? '');
  const [email, setEmail] = useState('');
  const [action, setAction] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const filterOf = () => ({ userId: userId || undefined, email: email || undefined, actions: action ? [action] : undefined, from: isoOf(from), to: isoOf(to) });
  const [filter, setFilter] = useState(filterOf);
  const { data, loading, error, fetchMore } = useQuery<AuditData>(AUDIT_LOG, { variables: { filter } });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilter(filterOf());
  };
  return (
    <Section title="Audit log">
      <form className="filters" onSubmit={apply}>
        <input name="userId" placeholder="User id" value={userId} onChange={(e) => setUserId(e.target.value)} />
        <input name="email" placeholder="Email (exact)" value={email} onChange={(e) => setEmail(e.target.value)} />
        <select name="action" value={action} onChange={(e) => setAction(e.target.value)}>
          <option value="">Any action</option>
          {ACTIONS.map((a) => (
            <option key={a}>{a}</option>
          ))}
        </select>
        <label>
          From (UTC) <input name="from" type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          To (UTC) <input name="to" type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <Loaded loading={loading} error={error} data={data}>
        {({ auditLog }) => (
          <>
            <Table headers={['When', 'Action', 'Actor', 'Subject', 'Email', 'Address', 'Detail']}>
              {auditLog.edges.map(({ node }) => (
                <tr key={node.id}>
                  <td>
                    <Time at={node.at} />
                  </td>
                  <td>{node.action}</td>
                  <td>
                    <ShortId id={node.actorId} />
                  </td>
                  <td>
                    <ShortId id={node.subjectId} />
                  </td>
                  <td>{node.email ?? '—'}</td>
                  <td>{node.ip ?? '—'}</td>
                  <td>
                    <code className="small detail">{JSON.stringify(node.detail)}</code>
                  </td>
                </tr>
              ))}
            </Table>
            {auditLog.edges.length === 0 ? <p className="muted">No entry matches.</p> : null}
            {auditLog.pageInfo.hasNextPage ? (
              <button
                type="button"
                onClick={() =>
                  void fetchMore({
                    variables: { after: auditLog.pageInfo.endCursor },
                    updateQuery: (previous, { fetchMoreResult }) => ({
                      auditLog: { ...fetchMoreResult.auditLog, edges: [...previous.auditLog.edges, ...fetchMoreResult.auditLog.edges] },
                    }),
                  })
                }
              >
                More
              </button>
            ) : null}
          </>
        )}
      </Loaded>
    </Section>
  );
}
