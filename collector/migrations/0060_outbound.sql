-- The outbox: every message Throughline sends to another system (GA4 now), written
-- here before it is sent, so that nothing decided is lost to a restart and nothing
-- sent is sent again (collector/src/outbound/). A message is first written
-- `pending` with revision 0; each later state (the next try of a retried one,
-- sent, failed, too_old) is the same message written again with a higher
-- revision. The newest revision is the message's state (outbound_current); the
-- rows of one message fold at merge time. Writing the first row again (a plan
-- repeated after a restart) changes nothing: revision 0 never outranks a state.
--   sender       who sends it: ga4
--   id           `<sender>:<subject>#<step>`, the same for the same message always
--   subject      what it is about: `<source>:<deal_id>`; a subject's messages go out in step order
--   step         1, 2, … within the subject (the GA4 ledger's step)
--   basis        the version of the subject it was computed from (deals.version)
--   event        purchase | refund
--   reference    the vendor's id of what it concerns (GA4 transaction_id)
--   recipient    who it concerns at the vendor (GA4 client_id)
--   value_minor  the money it moves, in minor units: + a purchase, − a refund
--   currency     ISO 4217
--   body         the request body, as sent
--   event_at     when the change it reports happened (GA4 timestamp_micros, and its 72-hour limit)
--   created_at   when the message was written
--   state        pending | sent | failed (the vendor refused it: 4xx) | too_old (past the vendor's time limit, not sent)
--   attempts     sends tried so far
--   next_at      when a pending message is due
--   answer       the vendor's last answer (status and body) or the error, for failed and retried messages
--   revision     orders the rows of one message
CREATE TABLE IF NOT EXISTS {db}.outbound_messages (
  sender String,
  id String,
  subject String,
  step UInt32,
  basis UInt64,
  event String,
  reference String,
  recipient String,
  value_minor Int64,
  currency String,
  body String,
  event_at DateTime('UTC'),
  created_at DateTime('UTC'),
  state String,
  attempts UInt32,
  next_at DateTime('UTC'),
  answer String,
  revision UInt64
) ENGINE = ReplacingMergeTree(revision)
PARTITION BY toYYYYMM(created_at)
ORDER BY (sender, subject, step);

-- The current state of every message: its newest revision.
CREATE VIEW IF NOT EXISTS {db}.outbound_current AS
SELECT sender, id, subject, step, basis, event, reference, recipient, value_minor, currency, body,
  event_at, created_at, state, attempts, next_at, answer, revision
FROM {db}.outbound_messages
ORDER BY revision DESC
LIMIT 1 BY sender, subject, step;

-- The ledger: per sender and subject, what the vendor holds (or will once the
-- pending messages are sent): the money of the messages pending or sent. For GA4,
-- the revenue of the deal's transactions, net of refunds. Failed and too_old
-- messages never reached the vendor, so they count for nothing.
CREATE VIEW IF NOT EXISTS {db}.outbound_ledger AS
SELECT
  sender,
  subject,
  sumIf(value_minor, state IN ('pending', 'sent')) AS held_minor,
  argMaxIf(currency, step, state IN ('pending', 'sent')) AS held_currency,
  max(step) AS steps,
  countIf(state = 'pending') AS pending
FROM {db}.outbound_current
GROUP BY sender, subject;
