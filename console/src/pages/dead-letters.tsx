import { gql } from '@apollo/client';
import { useMutation, useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { Loaded, More, Problems, Section, Table, Time } from '../ui';

const DEAD_LETTERS = gql(`
  query ConsoleDeadLetters($includeReplayed: Boolean!, $after: String) {
    paymentDeadLettersConnection(first: 50, after: $after, includeReplayed: $includeReplayed) {
      totalCount
      edges { node { id sourceTopic reason payload key eventId attempts deadAt replayedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);
const REPLAY = gql(`mutation ConsoleReplayDeadLetter($id: ID!) { replayPaymentDeadLetter(id: $id) { id replayedAt } }`);
const REPLAY_ALL = gql(`mutation ConsoleReplayAllDeadLetters { replayAllPaymentDeadLetters }`);

interface DeadLetter {
  id: string;
  sourceTopic: string;
  reason: string;
  payload: string;
  key: string;
  eventId: string | null;
  attempts: number;
  deadAt: string;
  replayedAt: string | null;
}

interface DeadLettersData {
  paymentDeadLettersConnection: { totalCount: number; edges: { node: DeadLetter }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

const appendDeadLetters = (previous: DeadLettersData, { fetchMoreResult }: { fetchMoreResult: DeadLettersData }): DeadLettersData => ({
  paymentDeadLettersConnection: {
    ...fetchMoreResult.paymentDeadLettersConnection,
    edges: [...previous.paymentDeadLettersConnection.edges, ...fetchMoreResult.paymentDeadLettersConnection.edges],
  },
});

export function DeadLettersPage() {
  const [includeReplayed, setIncludeReplayed] = useState(false);
  const { data, loading, error, refetch, fetchMore } = useQuery<DeadLettersData>(DEAD_LETTERS, { variables: { includeReplayed } });
  const [replay] = useMutation(REPLAY);
  const [replayAll, replayingAll] = useMutation<{ replayAllPaymentDeadLetters: number }>(REPLAY_ALL);
  const [opened, setOpened] = useState<string>();
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
    <Section
      title="Payment dead letters"
      actions={
        <div className="actions">
          <label>
            <input type="checkbox" checked={includeReplayed} onChange={(e) => setIncludeReplayed(e.target.checked)} /> Show replayed ones
          </label>
          <button
            type="button"
            disabled={replayingAll.loading}
            onClick={() =>
              void act(async () => {
                const { data: replayed } = await replayAll();
                return `${replayed?.replayAllPaymentDeadLetters ?? 0} dead letter(s) sent back to their topic.`;
              })
            }
          >
            Replay all
          </button>
        </div>
      }
    >
      {notice ? (
        <p className="note ok" role="status">
          {notice}
        </p>
      ) : null}
      <Problems error={failure} />
      <p className="muted">
        Messages the payments worker gave up on. A replay sends one back to its topic once, with a fresh retry count; consumers that applied it already skip it.
      </p>
      <Loaded loading={loading} error={error} data={data}>
        {({ paymentDeadLettersConnection: letters }) =>
          letters.edges.length === 0 ? (
            <p className="muted">No dead letter waits.</p>
          ) : (
            <>
              <Table headers={['Died', 'Topic', 'Reason', 'Key', 'Tries', 'Payload', 'Replayed']}>
                {letters.edges.map(({ node: letter }) => (
                  <tr key={letter.id} data-dead-letter-id={letter.id}>
                    <td>
                      <Time at={letter.deadAt} />
                    </td>
                    <td>{letter.sourceTopic}</td>
                    <td>{letter.reason}</td>
                    <td>
                      <code>{letter.key}</code>
                    </td>
                    <td>{letter.attempts}</td>
                    <td>
                      <button type="button" className="link" onClick={() => setOpened(opened === letter.id ? undefined : letter.id)}>
                        {opened === letter.id ? 'Hide' : 'Show'}
                      </button>
                      {opened === letter.id ? <pre className="payload">{letter.payload}</pre> : null}
                    </td>
                    <td>
                      {letter.replayedAt ? (
                        <Time at={letter.replayedAt} />
                      ) : (
                        <button type="button" onClick={() => void act(async () => (await replay({ variables: { id: letter.id } }), 'Sent back to its topic.'))}>
                          Replay
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </Table>
              <More
                shown={letters.edges.length}
                total={letters.totalCount}
                hasNextPage={letters.pageInfo.hasNextPage}
                onMore={() => void fetchMore({ variables: { after: letters.pageInfo.endCursor }, updateQuery: appendDeadLetters })}
              />
            </>
          )
        }
      </Loaded>
    </Section>
  );
}
