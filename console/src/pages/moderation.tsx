import { gql, type DocumentNode } from '@apollo/client';
import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Loaded, More, Problems, Section, ShortId, Table, Time } from '../ui';

// Each list of the page is a connection of its own, paged with More.
const FLAG_QUEUE = gql(`
  query ConsoleFlagQueue($after: String) {
    articleFlagsConnection(first: 50, after: $after) {
      totalCount
      edges { node { articleId flaggedBy reason flaggedAt article { id title source sources publishedAt } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);
// What is hidden and blocked now comes from the news service's own lists, not from the moderation
// log: an article hidden long ago (before the newest entries of the log) is hidden all the same.
const HIDDEN_ARTICLES = gql(`
  query ConsoleHiddenArticles($after: String) {
    hiddenArticles(first: 50, after: $after) {
      totalCount
      edges { node { articleId hiddenAt hiddenBy reason article { id title source } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);
const BLOCKED_SOURCES = gql(`query ConsoleBlockedSources { blockedNewsSources { name blockedAt blockedBy reason } }`);
const MODERATION_LOG = gql(`
  query ConsoleModerationLog($after: String) {
    newsAuditLogConnection(first: 50, after: $after) {
      edges { node { id at actorId action targetType targetId reason } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);
const HIDE = gql(`mutation ConsoleHideArticle($id: ID!, $reason: String!) { hideArticle(id: $id, reason: $reason) { id } }`);
const RESTORE = gql(`mutation ConsoleRestoreArticle($id: ID!, $reason: String) { restoreArticle(id: $id, reason: $reason) { id } }`);
const DISMISS = gql(`mutation ConsoleDismissFlags($id: ID!) { dismissArticleFlags(id: $id) }`);
const BLOCK = gql(`mutation ConsoleBlockSource($name: String!, $reason: String!) { blockNewsSource(name: $name, reason: $reason) { name blocked } }`);
const UNBLOCK = gql(`mutation ConsoleUnblockSource($name: String!) { unblockNewsSource(name: $name) { name blocked } }`);

interface Flag {
  articleId: string;
  flaggedBy: string;
  reason: string;
  flaggedAt: string;
  article: { id: string; title: string; source: string; sources: string[]; publishedAt: string } | null;
}
interface HiddenArticle {
  articleId: string;
  hiddenAt: string;
  hiddenBy: string;
  reason: string | null;
  article: { id: string; title: string; source: string } | null;
}
interface BlockedSource {
  name: string;
  blockedAt: string | null;
  blockedBy: string | null;
  reason: string | null;
}
interface NewsAuditEntry {
  id: string;
  at: string;
  actorId: string;
  action: 'HIDE_ARTICLE' | 'RESTORE_ARTICLE' | 'BLOCK_SOURCE' | 'UNBLOCK_SOURCE' | 'DISMISS_FLAGS';
  targetType: string;
  targetId: string;
  reason: string | null;
}
interface Page<T> {
  edges: { node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount?: number;
}

/** One connection of the page: its first page, and `more` to append the next one. */
function usePages<K extends string, T>(query: DocumentNode, field: K) {
  const result = useQuery<Record<K, Page<T>>>(query);
  const more = () => {
    const page = result.data?.[field];
    if (!page) return;
    void result.fetchMore({
      variables: { after: page.pageInfo.endCursor },
      updateQuery: (previous: Record<K, Page<T>>, { fetchMoreResult }: { fetchMoreResult: Record<K, Page<T>> }) =>
        ({ [field]: { ...fetchMoreResult[field], edges: [...previous[field].edges, ...fetchMoreResult[field].edges] } }) as Record<K, Page<T>>,
    });
  };
  return { ...result, page: result.data?.[field], more };
}

/** One row per article (the queue has one flag per reader), with every reason given, over the flags read so far. */
function flaggedArticles(flags: Flag[]) {
  const byArticle = new Map<string, { article: Flag['article']; articleId: string; reasons: string[]; latest: string }>();
  for (const flag of flags) {
    const row = byArticle.get(flag.articleId) ?? { article: flag.article, articleId: flag.articleId, reasons: [], latest: flag.flaggedAt };
    row.reasons.push(flag.reason);
    if (flag.flaggedAt > row.latest) row.latest = flag.flaggedAt;
    byArticle.set(flag.articleId, row);
  }
  return [...byArticle.values()];
}

export function ModerationPage() {
  const flags = usePages<'articleFlagsConnection', Flag>(FLAG_QUEUE, 'articleFlagsConnection');
  const hidden = usePages<'hiddenArticles', HiddenArticle>(HIDDEN_ARTICLES, 'hiddenArticles');
  const blocked = useQuery<{ blockedNewsSources: BlockedSource[] }>(BLOCKED_SOURCES);
  const log = usePages<'newsAuditLogConnection', NewsAuditEntry>(MODERATION_LOG, 'newsAuditLogConnection');
  const [hide] = useMutation(HIDE);
  const [restore] = useMutation(RESTORE);
  const [dismiss] = useMutation(DISMISS);
  const [block] = useMutation(BLOCK);
  const [unblock] = useMutation(UNBLOCK);
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const [source, setSource] = useState('');
  const [sourceReason, setSourceReason] = useState('');
  const [notice, setNotice] = useState('');
  const [failure, setFailure] = useState<unknown>();

  const act = async (action: () => Promise<unknown>, done: string) => {
    setNotice('');
    setFailure(undefined);
    try {
      await action();
      setNotice(done);
      // Every list from its first page again: an action changes the queue, the lists and the log.
      await Promise.all([flags.refetch(), hidden.refetch(), blocked.refetch(), log.refetch()]);
    } catch (error) {
      setFailure(error);
    }
  };
  const blockSource = (event: FormEvent) => {
    event.preventDefault();
    void act(() => block({ variables: { name: source, reason: sourceReason } }), `Blocked ${source}.`).then(() => {
      setSource('');
      setSourceReason('');
    });
  };

  return (
    <>
      {notice ? (
        <p className="note ok" role="status">
          {notice}
        </p>
      ) : null}
      <Problems error={failure} />
      <Section title="Flag queue">
        <Loaded loading={flags.loading} error={flags.error} data={flags.page}>
          {(queue) => (
            <>
              {queue.edges.length === 0 ? <p className="muted">No flagged article.</p> : null}
              <Table headers={['Article', 'Publication', 'Reasons', 'Last flagged', 'Action']}>
                {flaggedArticles(queue.edges.map((e) => e.node)).map((row) => (
                  <tr key={row.articleId} data-article-id={row.articleId}>
                    <td>{row.article?.title ?? <span className="muted">(hidden or gone) {row.articleId}</span>}</td>
                    <td>{row.article?.source ?? '—'}</td>
                    <td>
                      {row.reasons.map((r, n) => (
                        <div key={n}>{r}</div>
                      ))}
                    </td>
                    <td>
                      <Time at={row.latest} />
                    </td>
                    <td>
                      <div className="actions">
                        <input
                          name="hideReason"
                          placeholder="Why hide it"
                          value={reasons[row.articleId] ?? ''}
                          onChange={(e) => setReasons({ ...reasons, [row.articleId]: e.target.value })}
                        />
                        <button
                          type="button"
                          className="danger"
                          disabled={!reasons[row.articleId]}
                          onClick={() => void act(() => hide({ variables: { id: row.articleId, reason: reasons[row.articleId] } }), 'Article hidden.')}
                        >
                          Hide
                        </button>
                        <button type="button" onClick={() => void act(() => dismiss({ variables: { id: row.articleId } }), 'Flags dismissed; the article stays.')}>
                          Dismiss flags
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </Table>
              <More shown={queue.edges.length} total={queue.totalCount} hasNextPage={queue.pageInfo.hasNextPage} onMore={flags.more} />
            </>
          )}
        </Loaded>
      </Section>
      <Section title="Hidden articles">
        <Loaded loading={hidden.loading} error={hidden.error} data={hidden.page}>
          {(list) =>
            list.edges.length === 0 ? (
              <p className="muted">No hidden article.</p>
            ) : (
              <>
                <Table headers={['Article', 'Hidden', 'Why', 'By', '']}>
                  {list.edges.map(({ node }) => (
                    <tr key={node.articleId} data-article-id={node.articleId}>
                      <td>
                        {node.article ? <div>{node.article.title}</div> : null}
                        <code>{node.articleId}</code>
                      </td>
                      <td>
                        <Time at={node.hiddenAt} />
                      </td>
                      <td>{node.reason ?? '—'}</td>
                      <td>
                        <ShortId id={node.hiddenBy} />
                      </td>
                      <td>
                        <button type="button" onClick={() => void act(() => restore({ variables: { id: node.articleId } }), 'Article restored.')}>
                          Restore
                        </button>
                      </td>
                    </tr>
                  ))}
                </Table>
                <More shown={list.edges.length} total={list.totalCount} hasNextPage={list.pageInfo.hasNextPage} onMore={hidden.more} />
              </>
            )
          }
        </Loaded>
      </Section>
      <Section title="Publication blocklist">
        <form className="filters" onSubmit={blockSource}>
          <input name="source" placeholder='Publication, e.g. "Broken Wire"' value={source} onChange={(e) => setSource(e.target.value)} required />
          <input name="sourceReason" placeholder="Why" value={sourceReason} onChange={(e) => setSourceReason(e.target.value)} required />
          <button type="submit" className="danger">
            Block
          </button>
        </form>
        <Loaded loading={blocked.loading} error={blocked.error} data={blocked.data}>
          {({ blockedNewsSources }) =>
            blockedNewsSources.length === 0 ? (
              <p className="muted">No publication is blocked.</p>
            ) : (
              <Table headers={['Publication', 'Blocked', 'Why', 'By', '']}>
                {blockedNewsSources.map((blockedSource) => (
                  <tr key={blockedSource.name}>
                    <td>{blockedSource.name}</td>
                    <td>
                      <Time at={blockedSource.blockedAt} />
                    </td>
                    <td>{blockedSource.reason ?? '—'}</td>
                    <td>
                      <ShortId id={blockedSource.blockedBy} />
                    </td>
                    <td>
                      <button type="button" onClick={() => void act(() => unblock({ variables: { name: blockedSource.name } }), `Unblocked ${blockedSource.name}.`)}>
                        Unblock
                      </button>
                    </td>
                  </tr>
                ))}
              </Table>
            )
          }
        </Loaded>
      </Section>
      <Section title="Moderation log">
        <Loaded loading={log.loading} error={log.error} data={log.page}>
          {(entries) => (
            <>
              {entries.edges.length === 0 ? <p className="muted">No moderation action yet.</p> : null}
              <Table headers={['When', 'Action', 'Target', 'Why', 'By']}>
                {entries.edges.map(({ node: entry }) => (
                  <tr key={entry.id}>
                    <td>
                      <Time at={entry.at} />
                    </td>
                    <td>{entry.action}</td>
                    <td>
                      {entry.targetType} <code>{entry.targetId}</code>
                    </td>
                    <td>{entry.reason ?? '—'}</td>
                    <td>
                      <ShortId id={entry.actorId} />
                    </td>
                  </tr>
                ))}
              </Table>
              <More shown={entries.edges.length} hasNextPage={entries.pageInfo.hasNextPage} onMore={log.more} />
            </>
          )}
        </Loaded>
      </Section>
    </>
  );
}
