# Deals from any other CRM, as JSON, to the demo's import source "shop". Run from the
# repository while npm run demo runs. Statuses are mapped in data/demo/crm.json;
# updated_at orders a deal's changes: the same change sent again changes nothing.
. data/demo/demo.env
curl -sS "$COLLECTOR/crm/import/shop/$IMPORT_SECRET/deals" -H 'Content-Type: application/json' --data-binary @- <<JSON
{ "deals": [
  { "id": "A-1001", "name": "Order A-1001", "status": "paid", "amount": "2499.90",
    "created_at": "$(date -u -d '2 days ago' +%FT%TZ)", "updated_at": "$(date -u +%FT%TZ)",
    "emails": ["buyer@example.com"], "fields": { "tl_vid": "HK7M9P", "utm_source": "yandex" } },
  { "id": "A-1002", "name": "Order A-1002", "status": "refused", "amount": "990",
    "created_at": "$(date -u -d '1 day ago' +%FT%TZ)", "updated_at": "$(date -u +%FT%TZ)",
    "phones": ["+7 916 000-11-22"] } ] }
JSON
