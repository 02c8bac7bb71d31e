-- Incremental identity resolution (collector/src/attribution/incremental.ts). A
-- full resolution starts a *generation* (a partition of each table); later runs
-- of the same generation rewrite only the conversions a change touched, each
-- row carrying the `run` that wrote it. A resolution's result (a snapshot:
-- generation and run) is, per conversion, the rows of the newest finished run
-- of its generation, up to the snapshot's run, that wrote it (snapshot.ts);
-- a conversion that a run removed is written by it with removed = 1.
-- attribution_ids keeps every id of the identity graph with its component, so
-- that a run finds the components a new deal, link or hit touches.
-- Derived data, as in 0023: the tables are created anew and the next report
-- resolves again. Safe to repeat.
DROP TABLE IF EXISTS {db}.attribution_members;

CREATE TABLE IF NOT EXISTS {db}.attribution_members (
  generation UInt64,
  run UInt64,
  conv_key String,
  conv_kind String,
  conv_ts DateTime('UTC'),
  visitor_id String
) ENGINE = MergeTree()
PARTITION BY generation
ORDER BY tuple();

DROP TABLE IF EXISTS {db}.attribution_conversions;

CREATE TABLE IF NOT EXISTS {db}.attribution_conversions (
  generation UInt64,
  run UInt64,
  removed UInt8,
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
PARTITION BY generation
ORDER BY (conv_ts, conv_key);

DROP TABLE IF EXISTS {db}.attribution_touches;

CREATE TABLE IF NOT EXISTS {db}.attribution_touches (
  generation UInt64,
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
PARTITION BY generation
ORDER BY conv_ts;

-- Every id of the graph (kinds as in identity_links) and its component: `comp`,
-- a number within the `run` that wrote it. A run that touches a component
-- writes all its ids again, under a new component, so a component is either
-- wholly current or wholly replaced: an id's component is the one of its
-- newest finished run.
CREATE TABLE IF NOT EXISTS {db}.attribution_ids (
  generation UInt64,
  run UInt64,
  kind String,
  id String,
  comp UInt32
) ENGINE = MergeTree()
PARTITION BY generation
ORDER BY (id, kind);

-- One row per finished run. `fingerprint` describes the inputs it read (equal
-- fingerprints, nothing to do); `late_from` and `late_counts` are the rows of
-- hits, deals and links received before `late_from` when the run read: the
-- next run reads what arrived since `late_from`, and counts again, so a row
-- stored late with an older arrival time (a replayed spill) is noticed and
-- answered by a full resolution.
DROP TABLE IF EXISTS {db}.attribution_runs;

CREATE TABLE IF NOT EXISTS {db}.attribution_runs (
  generation UInt64,
  run UInt64,
  kind String,
  fingerprint String,
  conversions UInt64,
  started_at DateTime('UTC'),
  finished_at DateTime('UTC'),
  late_from DateTime('UTC'),
  late_counts String
) ENGINE = MergeTree()
PARTITION BY generation
ORDER BY run;
