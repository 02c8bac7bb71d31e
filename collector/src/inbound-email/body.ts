// Reading an inbound e-mail's body as the mail service posts it: JSON
// (Postmark, a CRM automation), application/x-www-form-urlencoded (Mailgun
// without attachments, a procmail script) or multipart/form-data (Mailgun with
// attachments, SendGrid Inbound Parse). Only the addresses and the subject are
// needed, so the limits are per part: a long HTML part is cut (its text part is
// there beside it), an attachment is streamed past and never held in memory.
import busboy from 'busboy';
import express, { type RequestHandler } from 'express';

/** A multipart field is kept up to this size; a longer one (an HTML body) is cut. */
export const FIELD_MAX_BYTES = 1024 * 1024;
/** A whole multipart post: what mail services send at most (SendGrid 30 MB, Mailgun 25 MB, Postmark 35 MB). */
export const MULTIPART_MAX_BYTES = 40 * 1024 * 1024;
/** A JSON or urlencoded post is read whole (Postmark inlines attachments as base64), up to this size. */
export const TEXT_MAX = '40mb';

/** The fields of a multipart post, by name: a repeated field is a list. */
export type FormFields = Record<string, string | string[]>;

const isMultipart = (type: string | undefined) => /^multipart\/form-data\b/i.test(type ?? '');

/**
 * The body parser of the inbound e-mail route, after its gate: a multipart body
 * becomes `req.body` as FormFields, any other body a string.
 */
export function mailBody(): RequestHandler {
  const text = express.text({ type: () => true, limit: TEXT_MAX });
  return (req, res, next) => {
    if (!isMultipart(req.headers['content-type'])) return text(req, res, next);
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        limits: { fieldSize: FIELD_MAX_BYTES, fieldNameSize: 200, fields: 500, files: 100, parts: 600 },
      });
    } catch {
      return void res.status(400).json({ error: 'bad_multipart', reason: 'multipart/form-data without a boundary' });
    }
    const fields: FormFields = {};
    let size = 0;
    let done = false;
    const finish = (err?: { status: number; error: string; reason: string }) => {
      if (done) return;
      done = true;
      req.unpipe(parser);
      if (!err) {
        req.body = fields;
        return next();
      }
      req.resume(); // the rest is read and dropped, so the answer reaches the sender
      res.status(err.status).json({ error: err.error, reason: err.reason });
    };
    parser.on('field', (name, value) => {
      const had = fields[name];
      fields[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
    });
    // Attachments are not needed: streamed past, never buffered.
    parser.on('file', (_name, stream) => stream.resume());
    parser.on('partsLimit', () => finish({ status: 413, error: 'too_many_parts', reason: 'more parts than an e-mail has' }));
    parser.on('error', (err: Error) => finish({ status: 400, error: 'bad_multipart', reason: err.message }));
    parser.on('close', () => finish());
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MULTIPART_MAX_BYTES) finish({ status: 413, error: 'too_large', reason: `an e-mail post is at most ${MULTIPART_MAX_BYTES} bytes` });
    });
    req.on('error', () => finish({ status: 400, error: 'aborted', reason: 'the request ended early' }));
    req.pipe(parser);
  };
}
