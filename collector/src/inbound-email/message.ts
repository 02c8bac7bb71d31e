// What an inbound e-mail post says, whichever mail service sent it: every
// recipient, the sender and the subject. The vendors name the same things
// differently:
//   Mailgun   recipient (envelope), sender (envelope: the bounce address), from,
//             To, Cc, subject, message-headers (JSON [[name, value], …])
//   SendGrid  to, cc, from, subject, envelope (JSON {to: […], from}), headers (raw)
//   Postmark  From, FromFull, To, ToFull[], Cc, CcFull[], BccFull[],
//             OriginalRecipient, Subject, Headers[] ({Name, Value})
//   our own   recipient / to, sender / from, subject, deal
// The sender is the person in From: an envelope sender is a bounce address, used
// only when nothing names From. Address lists are parsed as RFC 5322 lists (a
// quoted display name may hold a comma), and header text is decoded (RFC 2047
// encoded words, in any charset).
import addressparser from 'addressparser';
import libmime from 'libmime';

export type InboundMail = {
  /** Every recipient address, envelope and headers alike, in the order read. */
  recipients: string[];
  /** The sender's address ('' when none). */
  from: string;
  /** The subject, decoded. */
  subject: string;
};

/** Headers that name who the message was delivered to, besides To and Cc. */
const RECIPIENT_HEADERS = ['to', 'cc', 'delivered-to', 'x-original-to', 'x-forwarded-to', 'envelope-to', 'resent-to', 'resent-cc'];

/** Decodes RFC 2047 encoded words; text that is not encoded comes back as it is. */
export function decodeHeader(text: string): string {
  try {
    return libmime.decodeWords(text);
  } catch {
    return text;
  }
}

/** Every address of an address-list header (`"Петров, Иван" <ivan@…>, sales@…`), groups flattened. */
export function addresses(list: string): string[] {
  type Parsed = { address?: string; group?: Parsed[] };
  const flat = (xs: Parsed[]): string[] => xs.flatMap((x) => (x.group ? flat(x.group) : x.address ? [x.address] : []));
  return flat(addressparser(list) as Parsed[]).map((a) => a.trim()).filter((a) => a.includes('@'));
}

const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : v && typeof v === 'object' && typeof (v as { Email?: unknown }).Email === 'string' ? [(v as { Email: string }).Email] : [];

const json = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
};

/** The message's headers as [lower-case name, value] pairs, from whichever form the vendor gave them in. */
function headersOf(body: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  const mailgun = json(body['message-headers']);
  if (Array.isArray(mailgun)) {
    for (const h of mailgun) if (Array.isArray(h) && typeof h[0] === 'string' && typeof h[1] === 'string') out.push([h[0].toLowerCase(), h[1]]);
  }
  if (Array.isArray(body.Headers)) {
    for (const h of body.Headers as unknown[]) {
      const { Name, Value } = (h ?? {}) as { Name?: unknown; Value?: unknown };
      if (typeof Name === 'string' && typeof Value === 'string') out.push([Name.toLowerCase(), Value]);
    }
  }
  if (typeof body.headers === 'string') {
    // Raw headers (SendGrid): folded lines are joined to the header they continue.
    for (const line of body.headers.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
      const m = /^([!-9;-~]+):\s*(.*)$/.exec(line);
      if (m) out.push([m[1]!.toLowerCase(), m[2]!]);
    }
  }
  return out;
}

/** Reads a post's fields (JSON object or form fields) into the addresses and subject that matter. */
export function readMail(body: Record<string, unknown>): InboundMail {
  const headers = headersOf(body);
  const header = (name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);
  const envelope = (json(body.envelope) ?? {}) as { to?: unknown; from?: unknown };
  const lists = [
    ...['recipient', 'to', 'To', 'cc', 'Cc', 'OriginalRecipient', 'ToFull', 'CcFull', 'BccFull'].flatMap((k) => strings(body[k])),
    ...strings(envelope.to),
    ...RECIPIENT_HEADERS.flatMap(header),
  ];
  const recipients = [...new Set(lists.flatMap((l) => addresses(decodeHeader(l))))];
  // From first; the envelope sender (Mailgun's `sender`, SendGrid's envelope.from) is a bounce address.
  const fromCandidates = [...strings(body.FromFull), ...strings(body.from), ...strings(body.From), ...header('from'), ...strings(body.sender), ...strings(envelope.from)];
  const from = fromCandidates.map((f) => addresses(decodeHeader(f))[0]).find((a) => a !== undefined) ?? '';
  const subject = decodeHeader([...strings(body.subject), ...strings(body.Subject), ...header('subject')][0] ?? '');
  return { recipients, from, subject };
}
