-- One wrk script for every bench scenario, chosen by its first argument:
--   wrk ... -s scenario.lua URL -- get
--   wrk ... -s scenario.lua URL -- patch 12,13,14     (card ids, PATCHed in turn)
--   wrk ... -s scenario.lua URL -- login 'username=...&password=...'
-- The Authorization header comes from wrk's -H option. done() prints one JSON
-- line that bench/run.py reads, so it never parses wrk's human output.

local mode
local ids = {}
local sent = 0

function init(args)
  mode = args[1] or "get"
  if mode == "patch" then
    for id in string.gmatch(args[2], "%d+") do
      ids[#ids + 1] = id
    end
    wrk.headers["Content-Type"] = "application/json"
  elseif mode == "login" then
    wrk.method = "POST"
    wrk.body = args[2]
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
end

function request()
  if mode ~= "patch" then
    return wrk.format()
  end
  -- A different card and a real change every time, so every request writes. Only the
  -- title: a column change would also measure kanban-api's ordering service, which the
  -- baseline does not reproduce (docs/performance.md).
  sent = sent + 1
  local id = ids[(sent % #ids) + 1]
  local body = string.format('{"title":"Card %s, edit %d"}', id, sent)
  return wrk.format("PATCH", "/api/cards/" .. id, nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
