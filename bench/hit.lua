-- wrk script: every request is a distinct visit hit (own event id and visitor
-- id, so neither deduplication nor the visit throttle drops it), as the tracker
-- sends it: text/plain JSON with a browser user agent.
local counter = 0
local prefix

-- Visitor ids are unique per request (a thread's random start plus its counter,
-- written in the id alphabet: the collector removes any other id): random ids
-- would collide now and then over a long run, and a repeated visitor within 10
-- minutes is throttled, which would blur the count of acknowledged against
-- stored hits.
local ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
local start
local function vid()
  local n = start + counter
  local id = ""
  for _ = 1, 6 do
    local d = n % 31
    id = ALPHABET:sub(d + 1, d + 1) .. id
    n = math.floor(n / 31)
  end
  return id
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  prefix = string.format("%08x", math.random(0, 0x7fffffff))
  start = math.random(0, 800000000)
end

local headers = {
  ["Content-Type"] = "text/plain;charset=UTF-8",
  ["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
}

function request()
  counter = counter + 1
  local body = '{"s":"bench","k":"visit","e":"b' .. prefix .. counter .. '","t":' .. (os.time() * 1000) ..
    ',"u":"https://shop.example/catalog/item?id=' .. counter .. '","r":"https://www.google.com/","g":"' ..
    math.random(100000000, 999999999) .. '.1700000000","v":"' .. vid() .. '"}'
  return wrk.format("POST", "/hit", headers, body)
end
