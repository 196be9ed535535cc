import { gql } from '@apollo/client';
import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Loaded, Problems, Section, ShortId, Table, Time } from '../ui';

const MODERATION = gql(`
  query ConsoleModeration {
    articleFlags(first: 100) { articleId flaggedBy reason flaggedAt article { id title source sources publishedAt } }
    newsAuditLog(first: 200) { id at actorId action targetType targetId reason }
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
interface NewsAuditEntry {
  id: string;
  at: string;
  actorId: string;
  action: 'HIDE_ARTICLE' | 'RESTORE_ARTICLE' | 'BLOCK_SOURCE' | 'UNBLOCK_SOURCE' | 'DISMISS_FLAGS';
  targetType: string;
  targetId: string;
  reason: string | null;
}
interface ModerationData {
  articleFlags: Flag[];
  newsAuditLog: NewsAuditEntry[];
}

/** One row per article (the queue has one flag per reader), with every reason given. */
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

/**
 * What the moderation log says is hidden or blocked now: the newest action on each target (the log
 * is newest first). The API has no list of them; the log holds every change.
 */
function currentlyIn(log: NewsAuditEntry[], on: NewsAuditEntry['action'], off: NewsAuditEntry['action']) {
  const seen = new Set<string>();
  const current: NewsAuditEntry[] = [];
  for (const entry of log) {
    if (entry.action !== on && entry.action !== off) continue;
    if (seen.has(entry.targetId)) continue;
    seen.add(entry.targetId);
    if (entry.action === on) current.push(entry);
  }
  return current;
}

export function ModerationPage() {
  const { data, loading, error, refetch } = useQuery<ModerationData>(MODERATION);
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
      await refetch();
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
      <Loaded loading={loading} error={error} data={data}>
        {({ articleFlags, newsAuditLog }) => (
          <>
            <Section title="Flag queue">
              {articleFlags.length === 0 ? <p className="muted">No flagged article.</p> : null}
              <Table headers={['Article', 'Publication', 'Reasons', 'Last flagged', 'Action']}>
                {flaggedArticles(articleFlags).map((row) => (
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
            </Section>
            <Section title="Hidden articles">
              <HiddenList
                entries={currentlyIn(newsAuditLog, 'HIDE_ARTICLE', 'RESTORE_ARTICLE')}
                onRestore={(id) => void act(() => restore({ variables: { id } }), 'Article restored.')}
              />
            </Section>
            <Section title="Publication blocklist">
              <form className="filters" onSubmit={blockSource}>
                <input name="source" placeholder='Publication, e.g. "Broken Wire"' value={source} onChange={(e) => setSource(e.target.value)} required />
                <input name="sourceReason" placeholder="Why" value={sourceReason} onChange={(e) => setSourceReason(e.target.value)} required />
                <button type="submit" className="danger">
                  Block
                </button>
              </form>
              {currentlyIn(newsAuditLog, 'BLOCK_SOURCE', 'UNBLOCK_SOURCE').length === 0 ? <p className="muted">No publication is blocked.</p> : null}
              <Table headers={['Publication', 'Blocked', 'Why', '']}>
                {currentlyIn(newsAuditLog, 'BLOCK_SOURCE', 'UNBLOCK_SOURCE').map((entry) => (
                  <tr key={entry.targetId}>
                    <td>{entry.targetId}</td>
                    <td>
                      <Time at={entry.at} />
                    </td>
                    <td>{entry.reason ?? '—'}</td>
                    <td>
                      <button type="button" onClick={() => void act(() => unblock({ variables: { name: entry.targetId } }), `Unblocked ${entry.targetId}.`)}>
                        Unblock
                      </button>
                    </td>
                  </tr>
                ))}
              </Table>
            </Section>
            <Section title="Moderation log">
              {newsAuditLog.length === 0 ? <p className="muted">No moderation action yet.</p> : null}
              <Table headers={['When', 'Action', 'Target', 'Why', 'By']}>
                {newsAuditLog.slice(0, 50).map((entry) => (
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
            </Section>
          </>
        )}
      </Loaded>
    </>
  );
}

function HiddenList({ entries, onRestore }: { entries: NewsAuditEntry[]; onRestore: (id: string) => void }) {
  if (entries.length === 0) return <p className="muted">No hidden article.</p>;
  return (
    <Table headers={['Article', 'Hidden', 'Why', '']}>
      {entries.map((entry) => (
        <tr key={entry.targetId} data-article-id={entry.targetId}>
          <td>
            <code>{entry.targetId}</code>
          </td>
          <td>
            <Time at={entry.at} />
          </td>
          <td>{entry.reason ?? '—'}</td>
          <td>
            <button type="button" onClick={() => onRestore(entry.targetId)}>
              Restore
            </button>
          </td>
        </tr>
      ))}
    </Table>
  );
}
