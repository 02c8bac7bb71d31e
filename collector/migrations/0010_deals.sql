-- CRM deals as versions. Each change of a deal that reaches Throughline (a
-- webhook, an API fetch, an import row) is one row; a repeated delivery of the
-- same change has the same (source, deal_id, version) and folds into one row.
-- The full history stays; the current state of a deal is its highest version:
--   SELECT source, deal_id, argMax(amount_minor, version) ... GROUP BY source, deal_id
-- (the view deals_current in a later migration does exactly that).
-- Money is in minor units (kopecks, cents): reports must match to the kopeck.
--
-- Funnel columns (filled by the CRM side from the status mapping, see README):
--   stage / stage_index  the Throughline funnel stage the CRM status maps to ('' / -1 unmapped)
--   outcome              open | won | lost | returned | paused
--   stages_passed        every stage the deal has passed so far, by name: the stages it
--                        went through, plus, once won, every stage before the won stage
--   lost_from_stage      for a lost deal, the stage it was in when it was lost
CREATE TABLE IF NOT EXISTS {db}.deals (
  source String,
  deal_id String,
  version UInt64,
  changed_at DateTime('UTC'),
  received_at DateTime('UTC'),
  created_at DateTime('UTC'),
  closed_at DateTime('UTC'),
  name String,
  pipeline_id String,
  status_id String,
  stage String,
  stage_index Int32,
  outcome String,
  stages_passed Array(String),
  lost_from_stage String,
  amount_minor Int64,
  currency String,
  deleted UInt8,
  contact_ids Array(String),
  visitor_id String,
  ga_cid String,
  ym_uid String,
  utm_source String,
  utm_medium String,
  utm_campaign String,
  utm_term String,
  utm_content String,
  email_hashes Array(String),
  phone_hashes Array(String),
  field_names Array(String),
  field_values Array(String)
) ENGINE = ReplacingMergeTree()
PARTITION BY tuple()
ORDER BY (source, deal_id, version);

-- Throughline's own funnel: one ordered list of stages per installation, into
-- which every CRM source and pipeline maps its statuses. Rewritten whenever the
-- mapping configuration is loaded; `version` orders the rewrites.
CREATE TABLE IF NOT EXISTS {db}.funnel_stages (
  stage String,
  stage_index Int32,
  marker String,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY tuple()
ORDER BY stage;
