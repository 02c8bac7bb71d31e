-- The installation's generated IDENTITY_KEY (identity/key.ts), kept where every
-- collector finds it and where it survives a Redis restart: a lost key would
-- make every new contact hash differ from the stored ones. Written once per
-- installation; should two rows ever exist, the earliest is the key.
CREATE TABLE IF NOT EXISTS {db}.identity_key (
  key String,
  created_at DateTime
) ENGINE = MergeTree()
PARTITION BY tuple()
ORDER BY (created_at, key);
