import { createHash } from 'node:crypto';
import type { Logger } from '@analytica/logger';
import type { SubgraphServiceOptions } from '@analytica/subgraph';
import { getArticles, type ArticleStore } from '../articles/articles.js';
import { blockedSources, isBlocked } from '../moderation/moderation.js';

/** How long a CDN or browser may reuse a body without asking; after that it revalidates with the ETag (a 304 costs no body). */
export const CONTENT_MAX_AGE_SECONDS = 300;

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page of one article's body, as static content: the same bytes for everyone. */
export function renderArticle(article: { title: string; body: string; sources: string[]; publishedAt: Date; url: string }): string {
  const paragraphs = article.body
    .split(/\n{2,}/)
    .map((p) => `<p>${escape(p.trim())}</p>`)
    .join('\n');
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escape(article.title)}</title></head>\n` +
    `<body><article><h1>${escape(article.title)}</h1>\n<p><small>${escape(article.sources.join(', '))}, ${article.publishedAt.toISOString()}` +
    ` &middot; <a href="${escape(article.url)}" rel="noopener noreferrer">original</a></small></p>\n${paragraphs}\n</article></body></html>\n`
  );
}

/**
 * `GET /content/articles/<id>`: an article's body as a static page a CDN can keep. Public, like
 * the articles; `Cache-Control: public, max-age=300, stale-while-revalidate=60`, a strong ETag from
 * the bytes, and 304 to a matching `If-None-Match`. A hidden or blocked article is 404 (no-store),
 * so a CDN that revalidates drops it within max-age.
 */
type App = Parameters<NonNullable<SubgraphServiceOptions<never>['routes']>>[0];

export function contentRoutes(app: App, store: ArticleStore, logger: Logger): void {
  app.get('/content/articles/:id', async (req, res) => {
    const id = String(req.params.id);
    try {
      const [article] = id.length <= 200 && /^[a-z0-9][a-z0-9-]*$/.test(id) ? await getArticles(store, [id]) : [null];
      if (!article || article.hidden || isBlocked(article, await blockedSources(store))) {
        res.setHeader('Cache-Control', 'no-store');
        res.status(404).json({ error: { code: 'NOT_FOUND', message: `Article ${id} was not found.` } });
        return;
      }
      const body = renderArticle(article);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
      res.setHeader('Cache-Control', `public, max-age=${CONTENT_MAX_AGE_SECONDS}, stale-while-revalidate=60`);
      res.setHeader('ETag', etag);
      res.setHeader('Last-Modified', article.publishedAt.toUTCString());
      const ifNoneMatch = req.header('if-none-match');
      if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag || tag.trim() === '*')) {
        res.status(304).end();
        return;
      }
      res.status(200).type('text/html; charset=utf-8').send(body);
    } catch (error) {
      logger.error({ err: error, articleId: id }, 'could not serve an article body');
      res.setHeader('Cache-Control', 'no-store');
      res.status(503).json({ error: { code: 'SERVICE_UNAVAILABLE', message: 'The article could not be read; try again.' } });
    }
  });
}
