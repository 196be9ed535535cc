import { gql } from '@apollo/client';
import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Link, navigate, useRoute } from '../router';
import { Loaded, Problems, Section, Table, Time } from '../ui';

// The page's GraphQL documents.
const USERS = gql(`
  query ConsoleUsers($query: String, $role: Role, $disabled: Boolean, $after: String) {
    users(query: $query, role: $role, disabled: $disabled, first: 25, after: $after) {
      edges { node { id email displayName role disabled twoFactorEnabled createdAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);
const USER = gql(`
  query ConsoleUser($id: ID!) {
    user(id: $id) { id email displayName role disabled twoFactorEnabled emailVerified createdAt }
    auditLog(first: 20, filter: { userId: $id }) { edges { node { id at action actorId ip } } }
  }
`);
const SET_DISABLED = gql(`mutation ConsoleSetUserDisabled($id: ID!, $disabled: Boolean!) { setUserDisabled(id: $id, disabled: $disabled) { id disabled } }`);
const CHANGE_ROLE = gql(`mutation ConsoleChangeUserRole($id: ID!, $role: Role!) { changeUserRole(id: $id, role: $role) { id role } }`);
const REVOKE_SESSIONS = gql(`mutation ConsoleRevokeUserSessions($id: ID!) { revokeUserSessions(id: $id) }`);

type Role = 'USER' | 'ADMIN';
interface UserRow {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  disabled: boolean;
  twoFactorEnabled: boolean;
  emailVerified?: boolean;
  createdAt: string;
}
interface UsersData {
  users: { edges: { node: UserRow }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}
interface UserData {
  user: UserRow | null;
  auditLog: { edges: { node: { id: string; at: string; action: string; actorId: string | null; ip: string | null } }[] };
}

export function UsersPage() {
  const { params } = useRoute();
  const selected = params.get('id');
  return selected ? <UserDetail id={selected} /> : <UserSearch />;
}

function UserSearch() {
  const [text, setText] = useState('');
  const [role, setRole] = useState<'' | Role>('');
  const [state, setState] = useState<'' | 'enabled' | 'disabled'>('');
  const [variables, setVariables] = useState<Record<string, unknown>>({});
  const { data, loading, error, fetchMore } = useQuery<UsersData>(USERS, { variables });
  const search = (event: FormEvent) => {
    event.preventDefault();
    setVariables({ query: text || undefined, role: role || undefined, disabled: state ? state === 'disabled' : undefined });
  };
  return (
    <Section title="Users">
      <form className="filters" onSubmit={search}>
        <input name="query" placeholder="Email or name" value={text} onChange={(e) => setText(e.target.value)} />
        <select name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          <option value="">Any role</option>
          <option value="USER">USER</option>
          <option value="ADMIN">ADMIN</option>
        </select>
        <select name="state" value={state} onChange={(e) => setState(e.target.value as 'enabled')}>
          <option value="">Enabled or disabled</option>
          <option value="enabled">Enabled</option>
          <option value="disabled">Disabled</option>
        </select>
        <button type="submit">Search</button>
      </form>
      <Loaded loading={loading} error={error} data={data}>
        {({ users }) => (
          <>
            <Table headers={['Email', 'Name', 'Role', 'State', 'Two-factor', 'Created']}>
              {users.edges.map(({ node }) => (
                <tr key={node.id}>
                  <td>
                    <Link to={`/users?id=${encodeURIComponent(node.id)}`}>{node.email}</Link>
                  </td>
                  <td>{node.displayName}</td>
                  <td>{node.role}</td>
                  <td>{node.disabled ? <span className="badge bad">disabled</span> : <span className="badge ok">enabled</span>}</td>
                  <td>{node.twoFactorEnabled ? 'on' : 'off'}</td>
                  <td>
                    <Time at={node.createdAt} />
                  </td>
                </tr>
              ))}
            </Table>
            {users.edges.length === 0 ? <p className="muted">No user matches.</p> : null}
            {users.pageInfo.hasNextPage ? (
              <button type="button" onClick={() => void fetchMore({ variables: { after: users.pageInfo.endCursor }, updateQuery: appendUsers })}>
                More
              </button>
            ) : null}
          </>
        )}
      </Loaded>
    </Section>
  );
}

const appendUsers = (previous: UsersData, { fetchMoreResult }: { fetchMoreResult: UsersData }): UsersData => ({
  users: { ...fetchMoreResult.users, edges: [...previous.users.edges, ...fetchMoreResult.users.edges] },
});

function UserDetail({ id }: { id: string }) {
  const { data, loading, error, refetch } = useQuery<UserData>(USER, { variables: { id } });
  const [setDisabled, disabling] = useMutation(SET_DISABLED);
  const [changeRole, changingRole] = useMutation(CHANGE_ROLE);
  const [revoke, revoking] = useMutation<{ revokeUserSessions: number }>(REVOKE_SESSIONS);
  const [role, setRole] = useState<Role | ''>('');
  const [notice, setNotice] = useState('');
  const [failure, setFailure] = useState<unknown>();

  const act = async (action: () => Promise<string>) => {
    setNotice('');
    setFailure(undefined);
    try {
      setNotice(await action());
      await refetch();
    } catch (error) {
      setFailure(error);
    }
  };

  return (
    <Section title="User" actions={<button onClick={() => navigate('/users')}>Back to users</button>}>
      <Loaded loading={loading} error={error} data={data}>
        {({ user, auditLog }) =>
          !user ? (
            <p className="muted">No such user.</p>
          ) : (
            <>
              <dl className="facts">
                <dt>Email</dt>
                <dd>{user.email}</dd>
                <dt>Name</dt>
                <dd>{user.displayName}</dd>
                <dt>Id</dt>
                <dd>
                  <code>{user.id}</code>
                </dd>
                <dt>Role</dt>
                <dd data-testid="user-role">{user.role}</dd>
                <dt>State</dt>
                <dd data-testid="user-state">{user.disabled ? 'disabled' : 'enabled'}</dd>
                <dt>Email verified</dt>
                <dd>{user.emailVerified ? 'yes' : 'no'}</dd>
                <dt>Two-factor</dt>
                <dd>{user.twoFactorEnabled ? 'on' : 'off'}</dd>
                <dt>Created</dt>
                <dd>
                  <Time at={user.createdAt} />
                </dd>
              </dl>
              <div className="actions">
                <button
                  type="button"
                  className={user.disabled ? '' : 'danger'}
                  disabled={disabling.loading}
                  onClick={() =>
                    void act(async () => {
                      await setDisabled({ variables: { id: user.id, disabled: !user.disabled } });
                      return user.disabled ? 'Enabled.' : 'Disabled: every session ended.';
                    })
                  }
                >
                  {user.disabled ? 'Enable' : 'Disable'}
                </button>
                <button
                  type="button"
                  disabled={revoking.loading}
                  onClick={() =>
                    void act(async () => {
                      const { data: revoked } = await revoke({ variables: { id: user.id } });
                      return `${revoked?.revokeUserSessions ?? 0} session(s) ended.`;
                    })
                  }
                >
                  Revoke sessions
                </button>
                <select name="role" value={role || user.role} onChange={(e) => setRole(e.target.value as Role)}>
                  <option value="USER">USER</option>
                  <option value="ADMIN">ADMIN</option>
                </select>
                <button
                  type="button"
                  disabled={changingRole.loading || !role || role === user.role}
                  onClick={() =>
                    void act(async () => {
                      await changeRole({ variables: { id: user.id, role } });
                      return `Role changed to ${role}; their sessions ended.`;
                    })
                  }
                >
                  Change role
                </button>
              </div>
              {notice ? (
                <p className="note ok" role="status">
                  {notice}
                </p>
              ) : null}
              <Problems error={failure} />
              <h3>Recent audit entries</h3>
              <Table headers={['When', 'Action', 'By', 'Address']}>
                {auditLog.edges.map(({ node }) => (
                  <tr key={node.id}>
                    <td>
                      <Time at={node.at} />
                    </td>
                    <td>{node.action}</td>
                    <td>
                      <code>{node.actorId === user.id ? 'themselves' : (node.actorId ?? '—')}</code>
                    </td>
                    <td>{node.ip ?? '—'}</td>
                  </tr>
                ))}
              </Table>
              <Link to={`/audit?userId=${encodeURIComponent(user.id)}`}>The whole audit log of this user</Link>
            </>
          )
        }
      </Loaded>
    </Section>
  );
}
