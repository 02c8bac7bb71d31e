// Application-level batching into one ClickHouse table. ClickHouse wants large,
// infrequent inserts (>= 1,000 rows, about one a second per table), and 18.16 has
// no async_insert, so rows wait here until either bound is reached.
import type { ClickHouseClient } from '../clickhouse/client.js';

export type BatchWriterOptions = {
  table: string;
  /** Send as soon as this many rows wait. */
  maxRows: number;
  /** Send when the oldest waiting row has waited this long. */
  maxMs: number;
  /** Called when an insert fails; the batch is kept and retried on the next flush. */
  onError?: (err: unknown, rows: number) => void;
};

export class BatchWriter<Row extends object> {
  private rows: Row[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  /** Rows handed to ClickHouse and acknowledged by it. */
  written = 0;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly opts: BatchWriterOptions,
  ) {}

  get pending(): number {
    return this.rows.length;
  }

  push(row: Row): void {
    this.rows.push(row);
    if (this.rows.length >= this.opts.maxRows) void this.flush();
    else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.opts.maxMs);
  }

  /** Sends what waits; resolves when it is in ClickHouse (or the attempt failed). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // One insert at a time per table keeps the number of parts bounded.
    while (this.inFlight) await this.inFlight;
    if (this.rows.length === 0) return;
    const batch = this.rows;
    this.rows = [];
    this.inFlight = this.client
      .insert({ table: this.opts.table, values: batch, format: 'JSONEachRow' })
      .then(() => {
        this.written += batch.length;
      })
      .catch((err: unknown) => {
        // Keep the rows, oldest first, and try again later.
        this.rows = batch.concat(this.rows);
        this.opts.onError?.(err, batch.length);
        if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.opts.maxMs);
      })
      .finally(() => {
        this.inFlight = null;
      });
    await this.inFlight;
  }

  /** Stops the timer and flushes; call on shutdown. */
  async close(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
