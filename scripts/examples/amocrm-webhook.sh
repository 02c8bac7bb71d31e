# amoCRM's webhook of a deal won (status 142) in the demo's pipeline, as amoCRM sends it.
# Run from the repository while npm run demo runs: demo.env holds the collector's address
# and the amoCRM source's secret. The deal is attributed to the visitor in tl_vid: put
# yours there (the thank-you page shows it).
. data/demo/demo.env
curl -sS "$COLLECTOR/crm/amocrm/amo/$AMO_SECRET" \
  -H 'User-Agent: amoCRM-WebHook-client/1.0' \
  --data-urlencode 'account[subdomain]=northwind' \
  --data-urlencode 'account[id]=31415926' \
  --data-urlencode 'leads[status][0][id]=10701093' \
  --data-urlencode 'leads[status][0][name]=Personal training, 10 sessions' \
  --data-urlencode 'leads[status][0][status_id]=142' \
  --data-urlencode 'leads[status][0][old_status_id]=61000003' \
  --data-urlencode 'leads[status][0][pipeline_id]=7012345' \
  --data-urlencode 'leads[status][0][price]=22500' \
  --data-urlencode "leads[status][0][date_create]=$(date -d '3 days ago' +%s)" \
  --data-urlencode "leads[status][0][last_modified]=$(date +%s)" \
  --data-urlencode 'leads[status][0][custom_fields][0][id]=700001' \
  --data-urlencode 'leads[status][0][custom_fields][0][name]=tl_vid' \
  --data-urlencode 'leads[status][0][custom_fields][0][values][0][value]=HK7M9P' \
  --data-urlencode 'leads[status][0][custom_fields][1][id]=700002' \
  --data-urlencode 'leads[status][0][custom_fields][1][name]=utm_source' \
  --data-urlencode 'leads[status][0][custom_fields][1][values][0][value]=vk'
