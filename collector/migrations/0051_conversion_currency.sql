-- A conversion carries its deal's currency and closing time, so that a report
-- converts its revenue at the rate of the day the deal was won (currency/sql.ts)
-- instead of adding amounts of different currencies as one.
-- Derived data, as in 0023: the table is created anew and attribution_runs is
-- emptied with it, so the next report resolves again. Safe to repeat.
DROP TABLE IF EXISTS {db}.attribution_conversions;

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
  currency String,
  closed_at DateTime('UTC'),
  visitor_ids Array(String)
) ENGINE = MergeTree()
PARTITION BY run
ORDER BY (conv_ts, conv_key);

DROP TABLE IF EXISTS {db}.attribution_runs;

CREATE TABLE IF NOT EXISTS {db}.attribution_runs (
  run UInt64,
  fingerprint String,
  conversions UInt64,
  finished_at DateTime('UTC')
) ENGINE = MergeTree()
PARTITION BY tuple()
ORDER BY run;
