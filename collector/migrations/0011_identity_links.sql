-- The identity graph: each row says two ids belong to one person. Ids are typed
-- strings; kinds are
--   visitor  the tracker's 6-character visitor id (upper case)
--   ga       GA client id (`908899769.1600020018`)
--   ym       Yandex Metrika `_ym_uid`
--   email    keyed hash of a normalised e-mail (collector/src/identity/hash.ts)
--   phone    keyed hash of a normalised phone
--   deal     `<source>:<deal id>`
--   contact  `<source>:<contact id>`
-- A link is symmetric; writers store it once, in either order. Repeated links
-- fold into one row. `evidence` says what produced it (form, crm, inbound_email…).
CREATE TABLE IF NOT EXISTS {db}.identity_links (
  kind_a String,
  id_a String,
  kind_b String,
  id_b String,
  evidence String,
  linked_at DateTime('UTC')
) ENGINE = ReplacingMergeTree()
PARTITION BY tuple()
ORDER BY (kind_a, id_a, kind_b, id_b);
