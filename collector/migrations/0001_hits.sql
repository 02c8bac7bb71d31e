-- Every hit the tracker sends: page visits, lead (form) events, tel: clicks.
-- One row per client event id. ReplacingMergeTree folds a retried insert of the
-- same event into one row at merge time; queries that must count exactly use
-- `LIMIT 1 BY event_id` or `uniqExact(event_id)`.
CREATE TABLE IF NOT EXISTS {db}.hits (
  event_id String,
  site_id String,
  kind String,
  ts DateTime('UTC'),
  ts_ms UInt16,
  received_at DateTime('UTC'),
  visitor_id String,
  ga_cid String,
  ym_uid String,
  url String,
  referrer String,
  utm_source String,
  utm_medium String,
  utm_campaign String,
  utm_term String,
  utm_content String,
  click_id_name String,
  click_id String,
  channel String,
  source String,
  medium String,
  campaign String,
  user_agent String,
  ip_hash String,
  prop_keys Array(String),
  prop_values Array(String)
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (site_id, toDate(ts), event_id);
