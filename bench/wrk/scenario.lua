-- One wrk script for every bench scenario, chosen by its first argument:
--   wrk ... -s scenario.lua URL -- get
--   wrk ... -s scenario.lua URL -- patch 12,13,14          (card ids, titles PATCHed in turn)
--   wrk ... -s scenario.lua URL -- column 12,13,14         (card ids, each PATCHed to the next
--                                                           column in turn, as a drag sends)
--   wrk ... -s scenario.lua URL -- login 'username=...&password=...'
--   wrk ... -s scenario.lua URL -- mixed BOARD 12,13 TOKEN1,TOKEN2
--                                 (one board's users: list, read, create, PATCH, move, comment)
-- The Authorization header comes from wrk's -H option, except in `mixed`, which takes
-- turns between the tokens given. done() prints one JSON line that bench/run.py reads,
-- so it never parses wrk's human output.

local mode
local ids = {}
local tokens = {}
local board
local sent = 0
local columns = {"BACKLOG", "TODO", "DOING", "DONE"}

local function split(list, into)
  for item in string.gmatch(list, "[^,]+") do
    into[#into + 1] = item
  end
end

function init(args)
  mode = args[1] or "get"
  if mode == "patch" or mode == "column" then
    split(args[2], ids)
    wrk.headers["Content-Type"] = "application/json"
  elseif mode == "login" then
    wrk.method = "POST"
    wrk.body = args[2]
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  elseif mode == "mixed" then
    board = args[2]
    split(args[3], ids)
    split(args[4], tokens)
  end
end

-- A realistic mix for people working on one board, out of every 10 requests: 3 card
-- reads, 2 lists, 2 drags (PATCH column), 1 move, 1 new card, 1 comment.
local function mixed()
  local id = ids[(sent % #ids) + 1]
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[(sent % #tokens) + 1],
    ["Content-Type"] = "application/json",
  }
  local kind = sent % 10
  if kind < 3 then
    return wrk.format("GET", "/api/cards/" .. id, headers)
  elseif kind < 5 then
    return wrk.format("GET", "/api/boards/" .. board .. "/cards", headers)
  elseif kind < 7 then
    local body = string.format('{"column":"%s"}', columns[(sent % #columns) + 1])
    return wrk.format("PATCH", "/api/cards/" .. id, headers, body)
  elseif kind == 7 then
    local body = string.format('{"column":"%s","afterId":null}', columns[(sent % #columns) + 1])
    return wrk.format("POST", "/api/cards/" .. id .. "/move", headers, body)
  elseif kind == 8 then
    local body = string.format('[{"title":"New card %d","labels":["red","blue"]}]', sent)
    return wrk.format("POST", "/api/boards/" .. board .. "/cards", headers, body)
  end
  local body = string.format('{"body":"Comment %d"}', sent)
  return wrk.format("POST", "/api/cards/" .. id .. "/comments", headers, body)
end

function request()
  sent = sent + 1
  if mode == "mixed" then
    return mixed()
  elseif mode == "patch" then
    -- A different card and a real change every time, so every request writes.
    local id = ids[(sent % #ids) + 1]
    local body = string.format('{"title":"Card %s, edit %d"}', id, sent)
    return wrk.format("PATCH", "/api/cards/" .. id, nil, body)
  elseif mode == "column" then
    -- What a client sends when a card is dragged to another column: the card goes to
    -- the bottom of it. Each request moves its card on to the next column.
    local id = ids[(sent % #ids) + 1]
    local column = columns[(math.floor(sent / #ids) % #columns) + 1]
    return wrk.format("PATCH", "/api/cards/" .. id, nil, string.format('{"column":"%s"}', column))
  end
  return wrk.format()
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
