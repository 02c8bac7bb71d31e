# The same import as CSV: a header row, then one deal change per line; columns the
# import does not know (tl_vid, utm_source) are the deal's fields. Run from the
# repository while npm run demo runs.
. data/demo/demo.env
curl -sS "$COLLECTOR/crm/import/shop/$IMPORT_SECRET/deals.csv" -H 'Content-Type: text/csv' --data-binary @- <<CSV
id,name,status,amount,created_at,updated_at,email,phone,tl_vid,utm_source
B-2001,Order B-2001,paid,1500.00,$(date -u -d '5 days ago' +%FT%TZ),$(date -u +%FT%TZ),anna@example.com,,HK7M9P,google
B-2002,Order B-2002,qualified,3200.00,$(date -u -d '1 day ago' +%FT%TZ),$(date -u +%FT%TZ),,+79160002233,,
CSV
