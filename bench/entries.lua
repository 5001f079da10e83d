-- wrk script: every request is a complete, distinct contest entry.
--
--   wrk -t2 -c64 -d10s --latency -s bench/entries.lua URL -- FORM_TOKEN PREFIX [ORIGIN]
--
-- URL is the entry address (http://127.0.0.1:PORT/c/SLUG/entries); FORM_TOKEN the signed
-- token of the contest page's form; PREFIX keeps the addresses of two runs apart. Each request
-- sends its own e-mail address (PREFIX-tTHREAD-N@example.com) and its own client address in
-- X-Forwarded-For, as a reverse proxy in front of the app would: 10.B.C.D with B the lowest
-- byte of the request's global number, so consecutive requests come from different /24
-- networks and no address repeats before 16.7 million requests.
--
-- A 200 answer is the htmx "check your inbox" fragment (a stored entry); everything else is
-- counted apart. done() prints one line "BENCH key=value ..." for bench/run.py to read.

local MAX_THREADS = 16 -- request numbers are id + sent * MAX_THREADS: unique per run
local threads = {}
local counter = 1

function setup(thread)
  assert(counter <= MAX_THREADS, "at most 16 wrk threads")
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

local function urlencode(text)
  return (string.gsub(text, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function init(args)
  token = urlencode(args[1] or "")
  prefix = args[2] or "bench"
  origin = args[3]
  sent = 0
  ok = 0
  other = 0
  statuses = {}
end

function request()
  sent = sent + 1
  local n = id + sent * MAX_THREADS
  local ip = string.format("10.%d.%d.%d", n % 256, math.floor(n / 256) % 256,
    math.floor(n / 65536) % 254 + 1)
  local email = string.format("%s-t%d-%d@example.com", prefix, id, sent)
  local body = "form_token=" .. token
    .. "&email=" .. urlencode(email)
    .. "&first_name=Ann"
    .. "&accept_rules=on"
    .. "&consent_marketing_email=on"
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["HX-Request"] = "true",
    ["X-Forwarded-For"] = ip,
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) bench/entries.lua",
    ["Accept-Language"] = "fr-FR,fr;q=0.9",
    ["Sec-Fetch-Site"] = "same-origin",
  }
  if origin then
    headers["Origin"] = origin
    headers["Referer"] = origin .. "/"
  end
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    other = other + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local answered_ok, answered_other = 0, 0
  local seen = {}
  for _, thread in ipairs(threads) do
    answered_ok = answered_ok + thread:get("ok")
    answered_other = answered_other + thread:get("other")
    for status, count in pairs(thread:get("statuses")) do
      seen[status] = (seen[status] or 0) + count
    end
  end
  local codes = {}
  for status, count in pairs(seen) do
    table.insert(codes, string.format("%d:%d", status, count))
  end
  local errors = summary.errors
  io.write(string.format(
    "BENCH ok=%d other=%d requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d "
      .. "max_us=%d connect=%d read=%d write=%d timeout=%d statuses=%s\n",
    answered_ok, answered_other, summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    errors.connect, errors.read, errors.write, errors.timeout,
    #codes > 0 and table.concat(codes, ",") or "-"))
end
