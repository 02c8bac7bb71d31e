// The collector's /metrics text (or a registry's), read as numbers: a counter's
// series by their full name with labels, and sums over series that share a prefix.
export type MetricsText = {
  /** The value of one series, e.g. `throughline_hits_dropped_total{reason="bot"}` (0 when absent). */
  get(series: string): number;
  /** The sum of every series whose line starts with `prefix`. */
  sum(prefix: string): number;
};

export async function readMetrics(base: string): Promise<MetricsText> {
  return metricsText(await (await fetch(`${base}/metrics`)).text());
}

/** Metrics in the text format (a collector's /metrics, or a registry's metrics()), read as numbers. */
export function metricsText(text: string): MetricsText {
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const value = (l: string) => Number(l.slice(l.lastIndexOf(' ') + 1));
  return {
    get: (series) => {
      const line = lines.find((l) => l.startsWith(`${series} `));
      return line === undefined ? 0 : value(line);
    },
    sum: (prefix) => lines.filter((l) => l.startsWith(prefix)).reduce((n, l) => n + value(l), 0),
  };
}

/** The series of a dropped field: `throughline_fields_dropped_total{field="…",reason="…"}`. */
export const fieldDropped = (field: string, reason: string) => `throughline_fields_dropped_total{field="${field}",reason="${reason}"}`;
