-- Advertising costs as uploaded (collector/src/costs/): one row per day, source,
-- medium and campaign. Uploading the same key again replaces it: readers take
-- argMax(cost_minor, uploaded_at) per key (the view costs_current does).
-- `channel` is the channel grouping of source/medium (channels/classify.ts), so
-- costs and visits group the same way. Money in minor units.
CREATE TABLE IF NOT EXISTS {db}.costs (
  day Date,
  source String,
  medium String,
  campaign String,
  channel String,
  cost_minor Int64,
  currency String,
  uploaded_at DateTime('UTC'),
  upload_id String
) ENGINE = ReplacingMergeTree(uploaded_at)
PARTITION BY toYYYYMM(day)
ORDER BY (day, source, medium, campaign);

CREATE VIEW IF NOT EXISTS {db}.costs_current AS
SELECT day, source, medium, campaign,
  argMax(channel, uploaded_at) AS channel,
  argMax(cost_minor, uploaded_at) AS cost_minor,
  argMax(currency, uploaded_at) AS currency
FROM {db}.costs
GROUP BY day, source, medium, campaign;
