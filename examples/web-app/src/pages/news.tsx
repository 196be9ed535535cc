import { useMutation, useQuery } from '@apollo/client/react';
import { describeError, formatDate } from '../format';
import { graphql } from '../gql';

const FEED = graphql(`
  query NewsFeed($after: String) {
    me {
      id
      myFeed(first: 10, after: $after) {
        edges {
          cursor
          node {
            id
            title
            summary
            source
            url
            symbols
            publishedAt
            savedByMe
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

// Each answers the Article with its new savedByMe: the cache updates the one article in place.
const SAVE = graphql(`
  mutation SaveArticle($id: ID!) {
    saveArticle(id: $id) {
      id
      savedByMe
    }
  }
`);
// Following an article's link is a CLICK interaction (ranking); it changes nothing the page shows.
const CLICK = graphql(`
  mutation RecordArticleClick($id: ID!) {
    recordArticleClick(id: $id) {
      id
    }
  }
`);
const UNSAVE = graphql(`
  mutation UnsaveArticle($id: ID!) {
    unsaveArticle(id: $id) {
      id
      savedByMe
    }
  }
`);

export function NewsPage() {
  const feed = useQuery(FEED, { notifyOnNetworkStatusChange: true });
  const [save] = useMutation(SAVE);
  const [unsave] = useMutation(UNSAVE);
  const [click] = useMutation(CLICK);
  const page = feed.data?.me?.myFeed;
  return (
    <section>
      <h1>News for you</h1>
      <p className="muted">Picked from your watchlist and the topics you follow.</p>
      {feed.error && <p role="alert">{describeError(feed.error)}</p>}
      <ol className="articles" aria-label="News">
        {page?.edges.map(({ node }) => (
          <li key={node.id}>
            <h3>
              {/* The link opens at once; the click is recorded beside it, and a failure to record it is the reader's concern no more than a lost tracking pixel. */}
              <a href={node.url} target="_blank" rel="noreferrer noopener" onClick={() => void click({ variables: { id: node.id } }).catch(() => {})}>
                {node.title}
              </a>
            </h3>
            <p>{node.summary}</p>
            <p className="muted">
              {node.source}, {formatDate(node.publishedAt)}
              {node.symbols.length > 0 && ` · ${node.symbols.join(', ')}`}{' '}
              <button type="button" className="link" onClick={() => void (node.savedByMe ? unsave : save)({ variables: { id: node.id } })}>
                {node.savedByMe ? 'Saved ✓' : 'Save'}
              </button>
            </p>
          </li>
        ))}
      </ol>
      {page?.pageInfo.hasNextPage && (
        <button type="button" disabled={feed.loading} onClick={() => void feed.fetchMore({ variables: { after: page.pageInfo.endCursor } })}>
          Load more
        </button>
      )}
    </section>
  );
}
