-- The CRM configuration as last replaced through the admin API (PUT /crm/config).
-- At start the collector uses whichever is newer: this row or the CRM_CONFIG file.
CREATE TABLE IF NOT EXISTS {db}.crm_config (
  id String,
  body String,
  saved_at DateTime('UTC'),
  version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY tuple()
ORDER BY id;

-- OAuth tokens of each CRM source (amoCRM, Zoho). Redis keeps nothing on disk,
-- so the refreshed tokens live here; the newest version of a source wins.
CREATE TABLE IF NOT EXISTS {db}.crm_oauth_tokens (
  source String,
  access_token String,
  refresh_token String,
  expires_at DateTime('UTC'),
  api_domain String,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY tuple()
ORDER BY source;

-- The current state of every deal: its highest version. Deleted deals stay in
-- the view with deleted = 1, so a report decides whether to count them (they
-- should not be); the whole history stays in deals.
CREATE VIEW IF NOT EXISTS {db}.deals_current AS
SELECT
  source,
  deal_id,
  max(version) AS current_version,
  argMax(changed_at, version) AS changed_at,
  argMax(created_at, version) AS created_at,
  argMax(closed_at, version) AS closed_at,
  argMax(name, version) AS name,
  argMax(pipeline_id, version) AS pipeline_id,
  argMax(status_id, version) AS status_id,
  argMax(stage, version) AS stage,
  argMax(stage_index, version) AS stage_index,
  argMax(outcome, version) AS outcome,
  argMax(stages_passed, version) AS stages_passed,
  argMax(lost_from_stage, version) AS lost_from_stage,
  argMax(amount_minor, version) AS amount_minor,
  argMax(currency, version) AS currency,
  argMax(deleted, version) AS deleted,
  argMax(contact_ids, version) AS contact_ids,
  argMax(visitor_id, version) AS visitor_id,
  argMax(ga_cid, version) AS ga_cid,
  argMax(ym_uid, version) AS ym_uid,
  argMax(utm_source, version) AS utm_source,
  argMax(utm_medium, version) AS utm_medium,
  argMax(utm_campaign, version) AS utm_campaign,
  argMax(utm_term, version) AS utm_term,
  argMax(utm_content, version) AS utm_content,
  argMax(email_hashes, version) AS email_hashes,
  argMax(phone_hashes, version) AS phone_hashes,
  argMax(field_names, version) AS field_names,
  argMax(field_values, version) AS field_values
FROM {db}.deals
GROUP BY source, deal_id;
