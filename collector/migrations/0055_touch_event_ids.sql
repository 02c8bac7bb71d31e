-- A touch is one visit event: attribution_touches carries the visit's event_id,
-- so two visits alike in time, channel, source, medium and campaign stay two
-- touches while one event stored twice (hits not yet merged) stays one.
-- Touches are derived data the next identity resolution writes again: the table
-- is created anew, and attribution_runs emptied with it, so no report reads a
-- run whose touches are gone. Safe to repeat.
DROP TABLE IF EXISTS {db}.attribution_touches;

CREATE TABLE IF NOT EXISTS {db}.attribution_touches (
  run UInt64,
  conv_key String,
  conv_ts DateTime('UTC'),
  event_id String,
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
