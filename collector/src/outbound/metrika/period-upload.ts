// A period's offline conversions queued as one upload (POST
// /admin/metrika/conversions/upload): the period's file (period.ts) less the
// conversions already past Metrika's 21 days, written to the outbox as one
// message of the `metrika` sender, which sends it as any other.
//
// The message's subject is `Period:<from>..<to>:<goal>` (a capital letter, so
// it can never be a deal's `<source>:<deal_id>`: source ids are lower-case).
// Asking again with the same file while its message waits or was sent queues
// nothing and answers that message; a file that differs (deals won since, or
// changed) is the subject's next step; a file whose message was refused or came
// too late may be queued again. Queues run one at a time, so two requests at
// once cannot give one step two files.
//
// The message is dated at its oldest conversion: once that passes Metrika's
// limit while the message waits, the message is too_old, as the whole file
// would be refused.
import type { ClickHouseClient } from '../../clickhouse/client.js';
import { newMessage, type Message, type Outbox } from '../outbox.js';
import { Serial } from '../part.js';
import { conversionsCsv } from './conversions.js';
import { periodConversions, type Period } from './period.js';
import { CONVERSION_MAX_AGE_SECONDS, METRIKA } from './upload.js';

export type Queued =
  /** `fresh`: written now; else the same file's message already waiting or sent. */
  | { kind: 'queued'; message: Message; fresh: boolean; rows: number; tooOld: number; skipped: Record<string, number> }
  /** No conversion of the period can be sent. */
  | { kind: 'empty'; tooOld: number; skipped: Record<string, number> };

export const periodSubject = (period: Period, goal: string) => `Period:${period.from}..${period.to}:${goal}`;

export class PeriodUploads {
  private readonly serial = new Serial();

  constructor(
    private readonly ch: ClickHouseClient,
    private readonly outbox: Outbox,
  ) {}

  queue(period: Period, goal: string): Promise<Queued> {
    return this.serial.run(async () => {
      const now = Math.floor(Date.now() / 1000);
      const { lines, skipped } = await periodConversions(this.ch, period, goal, now);
      const recent = lines.filter((l) => l.at >= now - CONVERSION_MAX_AGE_SECONDS);
      const tooOld = lines.length - recent.length;
      if (!recent.length) return { kind: 'empty', tooOld, skipped };
      const body = conversionsCsv(recent.map((l) => l.line));
      const subject = periodSubject(period, goal);
      const known = (await this.outbox.ofSubjects(METRIKA, [subject])).get(subject) ?? [];
      const same = known.find((m) => m.body === body && (m.state === 'pending' || m.state === 'sent'));
      const base = { rows: recent.length, tooOld, skipped };
      if (same) return { kind: 'queued', message: same, fresh: false, ...base };
      const step = Math.max(0, ...known.map((m) => m.step)) + 1;
      const message: Message = newMessage({
        sender: METRIKA,
        subject,
        step,
        basis: 0,
        event: 'conversions',
        reference: `${period.from}..${period.to}`,
        recipient: '',
        valueMinor: 0,
        currency: '',
        body,
        eventAt: recent[0]!.at,
      }, now);
      await this.outbox.write([message]);
      return { kind: 'queued', message, fresh: true, ...base };
    });
  }
}
