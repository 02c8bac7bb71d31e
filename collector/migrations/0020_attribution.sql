-- Attribution snapshots. Identity resolution (collector/src/attribution/identity.ts)
-- merges the ids of one person (visitor, GA, Metrika, e-mail/phone hashes, CRM
-- contacts, deals) into connected components and writes one row per conversion:
-- a current, not deleted CRM deal, or a site form lead of a person who has no
-- deal. `visitor_ids` are every tracker visitor id of that person, which is how
-- the report SQL reaches the visits. Each resolution is one `run` (a partition);
-- readers take the newest run recorded in attribution_runs, so a resolution in
-- progress is never half-read. Older runs are dropped by partition.
CREATE TABLE IF NOT EXISTS {db}.attribution_conversions (
  run UInt64,
  conv_key String,
  conv_kind String,
  conv_ts DateTime('UTC'),
  deal_source String,
  deal_id String,
  outcome String,
  stage String,
  stages_passed Array(String),
  lost_from_stage String,
  amount_minor Int64,
  revenue_minor Int64,
  visitor_ids Array(String)
) ENGINE = MergeTree()
PARTITION BY run
ORDER BY (conv_ts, conv_key);

-- One row per finished resolution; `fingerprint` describes the inputs it read, so
-- an unchanged input is not resolved again.
CREATE TABLE IF NOT EXISTS {db}.attribution_runs (
  run UInt64,
  fingerprint String,
  conversions UInt64,
  finished_at DateTime('UTC')
) ENGINE = MergeTree()
PARTITION BY tuple()
ORDER BY run;

-- The touches of each conversion in a run: its person's visits up to a year
-- before it (the longest look-back a report may ask for). Written once per
-- resolution by one join of hits with the run's visitor ids, so the reports of
-- every model and window read this small table instead of joining all hits again.
CREATE TABLE IF NOT EXISTS {db}.attribution_touches (
  run UInt64,
  conv_key String,
  conv_ts DateTime('UTC'),
  ts DateTime('UTC'),
  ts_ms UInt16,
  channel String,
  source String,
  medium String,
  campaign String
) ENGINE = MergeTree()
PARTITION BY run
ORDER BY (conv_key, ts);
