// Every error answer names its reason and nothing else: JSON `{"error": …}` (a
// small HTML page at the report page), never a stack trace or a file path, which
// would tell an attacker what runs where. Two places need it: Express's final
// error handler (malformed escapes, bodies the parsers refuse, a route that
// throws) and node:http's clientError (a request that is not HTTP, headers too
// large, a request past its time).
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { requestLog } from './redact.js';

/** The reasons of the errors body-parser raises (its `type`), named for clients. */
const BODY_REASONS: Record<string, string> = {
  'entity.too.large': 'body_too_large',
  'entity.parse.failed': 'malformed_body',
  'entity.verify.failed': 'malformed_body',
  'encoding.unsupported': 'unsupported_content_encoding',
  'charset.unsupported': 'unsupported_charset',
  'request.aborted': 'request_aborted',
  'request.size.invalid': 'body_size_mismatch',
  'stream.encoding.set': 'internal_error',
  'stream.not.readable': 'internal_error',
};

type HttpError = { status?: unknown; statusCode?: unknown; type?: unknown; expose?: unknown };

/** The status an error asks for (a client error it was given), else 500. */
function statusOf(err: unknown): number {
  const e = (err ?? {}) as HttpError;
  const s = Number(e.status ?? e.statusCode);
  return Number.isInteger(s) && s >= 400 && s < 600 ? s : 500;
}

function reasonOf(err: unknown, status: number): string {
  const type = (err as HttpError | null)?.type;
  if (typeof type === 'string' && BODY_REASONS[type]) return BODY_REASONS[type];
  if (err instanceof URIError) return 'malformed_url';
  if (status === 413) return 'body_too_large';
  if (status === 415) return 'unsupported_media_type';
  return status < 500 ? 'bad_request' : 'internal_error';
}

/** Pages a browser opens (the report page) get their error as a page. */
const PAGES = new Set(['/reports']);

function errorPage(status: number, reason: string): string {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><p>${reason}</p></html>\n`;
}

/** Answers an error as JSON (or a page), once; a half-sent answer is cut off instead. */
export function answerError(req: IncomingMessage, res: ServerResponse, status: number, reason: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const path = (req.url ?? '/').split('?', 1)[0]!;
  const page = req.method === 'GET' && PAGES.has(path);
  const body = page ? errorPage(status, reason) : JSON.stringify({ error: reason });
  // Headers a route set for the answer it meant to give (a download name, a cache policy) do not belong to this one.
  for (const name of res.getHeaderNames()) if (name === 'content-disposition' || name === 'content-encoding') res.removeHeader(name);
  res.statusCode = status;
  res.setHeader('Content-Type', page ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

/** Express's last handler: any error a route or a parser passed on. */
export function finalErrorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const status = statusOf(err);
    const reason = reasonOf(err, status);
    if (status >= 500) log.error(requestLog(req, err), 'request failed');
    else log.debug({ ...requestLog(req, err), reason }, 'request refused');
    answerError(req, res, status, reason);
  };
}

/** The answers of node:http's parser errors, by their code. */
const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout'],
  HPE_HEADERS_TIMEOUT: [408, 'request_timeout'],
  HPE_INVALID_METHOD: [400, 'malformed_request'],
  HPE_INVALID_URL: [400, 'malformed_request'],
  HPE_INVALID_CHUNK_SIZE: [400, 'malformed_body'],
  HPE_INVALID_CONTENT_LENGTH: [400, 'malformed_request'],
  HPE_UNEXPECTED_CONTENT_LENGTH: [400, 'malformed_request'],
};

/**
 * node:http's clientError: the request could not be parsed or ran out of time.
 * Node's own answer is a bare status line; this one names the reason.
 */
export function clientErrorHandler(log: Logger) {
  return (err: Error & { code?: string }, socket: Duplex): void => {
    const busy = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || busy?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, reason] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'malformed_request'];
    log.debug({ code: err.code, reason }, 'malformed request');
    const body = JSON.stringify({ error: reason });
    // Cut once the answer is out: a client still sending would otherwise hold the half-closed connection.
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
  };
}
