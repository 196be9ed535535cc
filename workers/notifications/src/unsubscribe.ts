import type { Express, Request, Response } from 'express';
import type { Database } from '@analytica/postgres';
import { CATEGORY_NAMES, isOptional, setSubscribed, signatureIsValid } from './preferences.js';

const page = (title: string, body: string) => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem"><h1 style="font-size:1.4rem">${title}</h1>${body}</body></html>`;

/**
 * The signed links in emails: GET shows a button (link scanners fetch links, so a GET changes
 * nothing), POST turns the category off — also the RFC 8058 one-click POST a mail client sends —
 * and POST /resubscribe turns it back on. The signature is the only credential.
 */
export function unsubscribeRoutes(app: Express, options: { db: Database; secret: string }) {
  function verified(req: Request, res: Response) {
    const { u, c, s } = req.query as Record<string, string | undefined>;
    if (!u || !c || !s || !isOptional(c) || !signatureIsValid(options.secret, u, c, s)) {
      res.status(400).type('html').send(page('This link is not valid', '<p>It may have been cut short by your mail program. Please use the link from the email again.</p>'));
      return null;
    }
    const query = new URLSearchParams({ u, c, s }).toString();
    return { userId: u, category: c, query, name: CATEGORY_NAMES[c] };
  }

  app.get('/unsubscribe', (req, res) => {
    const link = verified(req, res);
    if (!link) return;
    res.type('html').send(page(`Turn off ${link.name}?`, `<form method="post" action="/unsubscribe?${link.query}"><button type="submit">Turn off ${link.name}</button></form>`));
  });

  app.post('/unsubscribe', async (req, res, next) => {
    const link = verified(req, res);
    if (!link) return;
    try {
      await setSubscribed(options.db.fork(), link.userId, link.category, false);
      res
        .type('html')
        .send(
          page(
            `You will no longer get ${link.name}`,
            `<p>Changed your mind?</p><form method="post" action="/resubscribe?${link.query}"><button type="submit">Turn ${link.name} back on</button></form>`,
          ),
        );
    } catch (error) {
      next(error);
    }
  });

  app.post('/resubscribe', async (req, res, next) => {
    const link = verified(req, res);
    if (!link) return;
    try {
      await setSubscribed(options.db.fork(), link.userId, link.category, true);
      res.type('html').send(page(`${link.name[0]!.toUpperCase()}${link.name.slice(1)} are on again`, '<p>You can close this page.</p>'));
    } catch (error) {
      next(error);
    }
  });
}
