import path from 'node:path';
import type { Express, NextFunction, Request, Response } from 'express';
import type { Logger } from '@analytica/logger';
import { assetNames, buildIdeAssets } from './build.js';

/**
 * The IDE page's policy: scripts, styles, fonts and workers from the gateway alone, requests to the
 * gateway alone (HTTP and its WebSocket), never framed. Monaco sets inline styles, hence 'unsafe-inline'
 * for styles only.
 */
export const IDE_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Analytica GraphQL IDE</title>
    <link rel="stylesheet" href="/ide/ide.css" />
    <script src="/ide/ide.js" defer></script>
  </head>
  <body>
    <div id="graphiql">Loading the GraphQL IDE…</div>
  </body>
</html>
`;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** A browser asking for a page (Accept prefers text/html over JSON), not a GraphQL request. */
export const wantsPage = (req: Request) => req.method === 'GET' && req.accepts(['json', 'html']) === 'html' && !req.headers.accept?.includes('text/event-stream');

/**
 * GET /graphql for browsers: GraphiQL with a sign-in form, built from node_modules on first use
 * (build.ts) and served from /ide/*, so that the page loads nothing from anywhere else. Off
 * (`enabled` false): the page is 404 NOT_FOUND and Apollo's landing page is never shown either.
 */
export function ideRoutes(app: Express, options: { enabled: boolean; logger: Logger; cacheDir?: string }) {
  if (!options.enabled) {
    app.get('/graphql', (req: Request, res: Response, next: NextFunction) => {
      if (!wantsPage(req) || req.query.query !== undefined) return next();
      res.status(404).json({ errors: [{ message: 'The GraphQL IDE is off on this gateway (GATEWAY_IDE).', extensions: { code: 'NOT_FOUND' } }] });
    });
    return;
  }
  let built: Promise<{ dir: string; files: Set<string> }> | undefined;
  const assets = () => {
    built ??= buildIdeAssets(options.cacheDir).then(async (dir) => ({ dir, files: await assetNames(dir) }));
    built.catch(() => (built = undefined));
    return built;
  };
  const failed = (res: Response, error: unknown) => {
    options.logger.error({ err: error }, 'the GraphQL IDE could not be built');
    res.status(503).json({ errors: [{ message: 'The GraphQL IDE is not available right now.', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
  };
  app.get('/graphql', (req: Request, res: Response, next: NextFunction) => {
    if (!wantsPage(req) || req.query.query !== undefined) return next();
    // Built before the page is answered, so that its scripts never wait on a build.
    assets().then(
      () => {
        res.setHeader('content-security-policy', IDE_PAGE_CSP);
        res.setHeader('cache-control', 'no-store');
        res.type('html').send(PAGE);
      },
      (error: unknown) => failed(res, error),
    );
  });
  app.get('/ide/:file', (req: Request, res: Response, next: NextFunction) => {
    const file = String(req.params.file);
    assets().then(
      ({ dir, files }) => {
        const type = TYPES[path.extname(file)];
        if (!files.has(file) || !type) return next();
        res.setHeader('content-security-policy', IDE_PAGE_CSP);
        res.setHeader('cache-control', 'no-cache');
        // The cache lives under node_modules/.cache: a dot folder, which send refuses unless told.
        res.sendFile(path.join(dir, file), { dotfiles: 'allow', headers: { 'content-type': type } }, (error) => {
          if (error && !res.headersSent) next(error);
        });
      },
      (error: unknown) => failed(res, error),
    );
  });
}
