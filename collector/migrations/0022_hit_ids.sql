-- Which GA / Metrika ids each tracker visitor id carried, kept up to date by a
-- materialized view on every insert into hits. Identity resolution reads this
-- (about one row per visitor) instead of scanning all hits for id pairs.
-- Repeated pairs fold at merge time; readers GROUP BY the three columns.
CREATE TABLE IF NOT EXISTS {db}.hit_ids (
  visitor_id String,
  ga_cid String,
  ym_uid String
) ENGINE = ReplacingMergeTree()
PARTITION BY tuple()
ORDER BY (visitor_id, ga_cid, ym_uid);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.hit_ids_mv TO {db}.hit_ids AS
SELECT visitor_id, ga_cid, ym_uid FROM {db}.hits
WHERE visitor_id != '' AND (ga_cid != '' OR ym_uid != '')
GROUP BY visitor_id, ga_cid, ym_uid;

-- Hits stored before this migration (safe to repeat: pairs fold).
INSERT INTO {db}.hit_ids
SELECT visitor_id, ga_cid, ym_uid FROM {db}.hits
WHERE visitor_id != '' AND (ga_cid != '' OR ym_uid != '')
GROUP BY visitor_id, ga_cid, ym_uid;
