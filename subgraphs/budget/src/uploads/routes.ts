import type { Express } from 'express';
import type { Logger } from '@analytica/logger';
import { UploadRefused, type StatementUploads } from './uploads.js';

/**
 * `PUT /uploads/statements/:id?token=…`: the file of a statement upload, streamed to object
 * storage. Clients reach it through the gateway (which forwards the body untouched); the token in
 * the URL is the credential, so no Authorization header is needed, as with a presigned S3 URL.
 * Answers JSON: `{ id, status, byteSize }`, or `{ error: { code, message } }` with the status.
 */
export function uploadRoutes(app: Express, uploads: StatementUploads, logger: Logger) {
  app.put('/uploads/statements/:id', async (req, res) => {
    const header = req.headers['content-length'];
    const length = header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : null;
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    try {
      const upload = await uploads.receive(req.params.id, token, length, req);
      res.status(200).json({ id: upload.id, status: upload.status, byteSize: Number(upload.byte_size) });
    } catch (error) {
      if (!(error instanceof UploadRefused)) {
        logger.error({ err: error, uploadId: req.params.id }, 'statement upload failed');
        res.status(500).json({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'The file could not be stored; send it again shortly.' } });
        return;
      }
      // Node reads and drops the rest of a refused body after the answer: closing instead could
      // reset the connection before the gateway has read the answer, and the client would see a 503.
      res.status(error.status).json({ error: { code: error.code, message: error.message } });
    }
  });
}
