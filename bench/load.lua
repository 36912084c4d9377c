-- The request of one benchmark scenario, for wrk (`wrk -s bench/load.lua`), described by the
-- environment bench/drive.mjs sets:
--   BENCH_METHOD, BENCH_PATH   method and path; `{token}` in the path takes a token per request
--   BENCH_BODY                 a JSON body (optional); `{unique}` in it takes a value no other
--                              request of the run has (BENCH_NONCE, the thread, a counter)
--   BENCH_NONCE                what makes `{unique}` differ between wrk runs (optional)
--   BENCH_JWT                  a bearer token sent with every request (optional)
--   BENCH_TOKENS               a file of tokens, one a line, cycled through (optional)
--   BENCH_PAIRS                a file of "<token> <jwt>" lines, each sent once (optional);
--                              the threads split the file between them
--   BENCH_THREADS              wrk's -t, so that the threads can split BENCH_PAIRS
-- done() prints one line, "BENCH {json}", with the counts and latency percentiles.

-- A variable's value; nil when unset or empty.
local function option(name)
  local value = os.getenv(name)
  if value == "" then
    return nil
  end
  return value
end

local method = option("BENCH_METHOD") or "GET"
local path = option("BENCH_PATH") or "/"
local body = option("BENCH_BODY")
local jwt = option("BENCH_JWT")
local tokens_file = option("BENCH_TOKENS")
local pairs_file = option("BENCH_PAIRS")
local thread_count = tonumber(option("BENCH_THREADS") or "1")
local nonce = option("BENCH_NONCE") or "0"
-- A body with `{unique}` is made anew for each request.
local unique_body = body and body:find("{unique}", 1, true) ~= nil

local headers = {}
if body then
  headers["Content-Type"] = "application/json"
elseif method ~= "GET" then
  headers["Content-Length"] = "0"
end
if jwt then
  headers["Authorization"] = "Bearer " .. jwt
end

-- Runs in the main state, once per thread, before the thread's init().
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("index", #threads)
end

local tokens, jwts = {}, {}
local next_item, fixed_request = 1, nil
-- Roster limits its token endpoints per client address (`TOKEN_LIMITER`, 60 a minute): the
-- load measured is that of many clients, so each token request comes from an address of its
-- own (`CF-Connecting-IP`, which `wrangler dev` passes on), per thread and request.
local thread_index, sent = 0, 0

-- Runs in each thread's own state.
function init(args)
  local index = wrk.thread:get("index")
  thread_index = index
  if pairs_file then
    local n = 0
    for line in io.lines(pairs_file) do
      n = n + 1
      if n % thread_count == index % thread_count then
        local token, bearer = line:match("^(%S+) (%S+)$")
        table.insert(tokens, token)
        table.insert(jwts, bearer)
      end
    end
  elseif tokens_file then
    for line in io.lines(tokens_file) do
      table.insert(tokens, line)
    end
    -- Threads start at different places, so that they do not ask for the same token at once.
    next_item = math.floor(#tokens * (index - 1) / thread_count) + 1
  elseif not unique_body then
    fixed_request = wrk.format(method, path, headers, body)
  end
  wrk.thread:set("exhausted", 0)
end

function request()
  if fixed_request then
    return fixed_request
  end
  if unique_body and not tokens_file and not pairs_file then
    sent = sent + 1
    local unique = string.format("%s-%d-%d", nonce, thread_index, sent)
    return wrk.format(method, path, headers, (body:gsub("{unique}", unique)))
  end
  if next_item > #tokens then
    if pairs_file then
      -- Every pair has been used once: go round again and let the report say so.
      wrk.thread:set("exhausted", 1)
    end
    next_item = 1
  end
  local token = tokens[next_item]
  if pairs_file then
    headers["Authorization"] = "Bearer " .. jwts[next_item]
  end
  next_item = next_item + 1
  sent = sent + 1
  headers["CF-Connecting-IP"] = string.format("10.%d.%d.%d", thread_index % 256,
    math.floor(sent / 256) % 256, sent % 256)
  return wrk.format(method, path:gsub("{token}", token), headers, body)
end

function done(summary, latency, _)
  local exhausted = 0
  for _, thread in ipairs(threads) do
    exhausted = exhausted + (thread:get("exhausted") or 0)
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p99_us": %d, "exhausted_threads": %d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), exhausted))
end
