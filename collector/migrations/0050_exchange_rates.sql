-- Exchange rates as uploaded (POST /api/rates, collector/src/currency/): the
-- value of one unit of `currency` in `base` (the report currency at upload time)
-- on `day`, in billionths (92.5 is 92500000000), so that conversion is integer
-- arithmetic. Uploading the same key again replaces it: readers take
-- argMax(rate_e9, uploaded_at) per (base, currency, day). A report uses the rate
-- of an amount's day, or the latest before it (currency/sql.ts).
CREATE TABLE IF NOT EXISTS {db}.exchange_rates (
  base String,
  currency String,
  day Date,
  rate_e9 UInt64,
  uploaded_at DateTime('UTC'),
  upload_id String
) ENGINE = ReplacingMergeTree(uploaded_at)
PARTITION BY tuple()
ORDER BY (base, currency, day);
