import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';

/**
 * The admin console's policy: its scripts and styles from the gateway alone (no inline script, no
 * inline style sheet), its requests to the gateway alone, never framed, no form posted anywhere.
 */
export const CONSOLE_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const securityHeaders = (res: Response) => {
  res.setHeader('content-security-policy', CONSOLE_PAGE_CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
};

/** Why a console folder cannot be served, or undefined when it can (checked at start-up). */
export function consoleDirProblem(dir: string): string | undefined {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return `"${dir}" is not a folder: build the console (npm run build -w console) and give its dist folder`;
  if (!existsSync(path.join(dir, 'index.html'))) return `"${dir}" has no index.html: give the console's built dist folder (npm run build -w console)`;
  return undefined;
}

/**
 * The built admin console (console/dist, GATEWAY_CONSOLE_DIR) at /console/: its hashed assets with a
 * long cache, and index.html for every other page under /console/ (the console routes in the
 * browser). The console reads the API at /graphql on the same origin, so it needs no CORS; the API
 * itself refuses its admin data to anyone but an administrator.
 */
export function consoleRoutes(app: Express, options: { dir: string }) {
  const dir = path.resolve(options.dir);
  const page = (_req: Request, res: Response) => {
    securityHeaders(res);
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(path.join(dir, 'index.html'));
  };
  // Express matches /console/ here too (non-strict routing): only the bare path is redirected.
  app.get('/console', (req: Request, res: Response, next: NextFunction) => (req.path === '/console' ? res.redirect(301, '/console/') : next()));
  app.use(
    '/console/assets',
    express.static(path.join(dir, 'assets'), {
      index: false,
      immutable: true,
      maxAge: '365d',
      setHeaders: securityHeaders,
    }),
    // An asset of another build (a page loaded before the console was rebuilt): a plain 404, not the page.
    (_req: Request, res: Response) => res.status(404).json({ error: { code: 'NOT_FOUND', message: 'No such file in this build of the console: reload the page.' } }),
  );
  app.get(/^\/console\/.*/, (req: Request, res: Response, next: NextFunction) => {
    // Pages, not files: /console/users, /console/logs?requestId=...
    if (path.extname(req.path)) return next();
    page(req, res);
  });
}
