import { createHash } from 'node:crypto';
import type { Logger } from '@analytica/logger';
import type { SubgraphServiceOptions } from '@analytica/subgraph';
import { getArticles, type ArticleStore } from '../articles/articles.js';
import { blockedSources, isBlocked } from '../moderation/moderation.js';
import { readImage, type ImageStore } from './images.js';

/** How long a CDN or browser may reuse a body without asking; after that it revalidates with the ETag (a 304 costs no body). */
export const CONTENT_MAX_AGE_SECONDS = 300;

/** The path of an article's image on the news service (Article.imageUrl). */
export const imagePath = (articleId: string) => `/content/articles/${articleId}/image`;

const matches = (ifNoneMatch: string | undefined, etag: string) =>
  !!ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag || tag.trim() === '*');

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

export function contentRoutes(app: App, store: ArticleStore, logger: Logger, images: ImageStore): void {
  /** The article, if readers may see it. */
  async function visibleArticle(id: string) {
    const [article] = id.length <= 200 && /^[a-z0-9][a-z0-9-]*$/.test(id) ? await getArticles(store, [id]) : [null];
    return article && !article.hidden && !isBlocked(article, await blockedSources(store)) ? article : null;
  }
  const notFound = (res: { setHeader(name: string, value: string): unknown; status(code: number): { json(body: unknown): unknown } }, message: string) => {
    res.setHeader('Cache-Control', 'no-store');
    res.status(404).json({ error: { code: 'NOT_FOUND', message } });
  };

  app.get('/content/articles/:id', async (req, res) => {
    const id = String(req.params.id);
    try {
      const article = await visibleArticle(id);
      if (!article) return void notFound(res, `Article ${id} was not found.`);
      const body = renderArticle(article);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
      res.setHeader('Cache-Control', `public, max-age=${CONTENT_MAX_AGE_SECONDS}, stale-while-revalidate=60`);
      res.setHeader('ETag', etag);
      res.setHeader('Last-Modified', article.publishedAt.toUTCString());
      if (matches(req.header('if-none-match'), etag)) {
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

  /**
   * `GET /content/articles/<id>/image`: the article's image as stored at ingest (content/images.ts),
   * with the type recognised from its bytes, the same caching as the body, `nosniff` and a CSP that
   * lets nothing run. No image, or an article readers may not see: 404 (no-store).
   */
  app.get('/content/articles/:id/image', async (req, res) => {
    const id = String(req.params.id);
    try {
      if (!(await visibleArticle(id))) return void notFound(res, `Article ${id} was not found.`);
      const image = await readImage(images, id);
      if (!image) return void notFound(res, `Article ${id} has no image.`);
      res.setHeader('Cache-Control', `public, max-age=${CONTENT_MAX_AGE_SECONDS}, stale-while-revalidate=60`);
      res.setHeader('ETag', image.etag);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
      if (matches(req.header('if-none-match'), image.etag)) {
        res.status(304).end();
        return;
      }
      res.status(200).type(image.contentType).send(Buffer.from(image.bytes));
    } catch (error) {
      logger.error({ err: error, articleId: id }, 'could not serve an article image');
      res.setHeader('Cache-Control', 'no-store');
      res.status(503).json({ error: { code: 'SERVICE_UNAVAILABLE', message: 'The image could not be read; try again.' } });
    }
  });
}
