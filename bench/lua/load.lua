-- The wrk script of bench/run.sh. BENCH_SCENARIO names the scenario
-- (list, get, create, update, mixed, signin); BENCH_DATA names a Lua file,
-- written by run.sh, that returns the tokens and ids to use:
--   { callers = { { token = "...", managed = { "id", ... } }, ... },
--     writers = { "token", ... }, accounts = N, password = "..." }
-- Callers have 5 managed users and 2 received shares each; writers are
-- other accounts, so that creates never lengthen the callers' lists.

local data = dofile(os.getenv("BENCH_DATA"))
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
end

function caller()
  return data.callers[math.random(#data.callers)]
end

function writer()
  return data.writers[math.random(#data.writers)]
end

function bearer(token, extra)
  local h = { ["Authorization"] = "Bearer " .. token }
  if extra then
    for k, v in pairs(extra) do h[k] = v end
  end
  return h
end

JSON = { ["Content-Type"] = "application/json" }

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
function base64(s)
  return ((s:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

-- Basic credentials of the seeded accounts 1..data.accounts (all share one
-- password), made once per thread so requests cost no encoding.
local basics = nil
function basic()
  if not basics then
    basics = {}
    for i = 1, data.accounts do
      basics[i] = "Basic " .. base64("bench" .. i .. "@example.org:" .. data.password)
    end
  end
  return basics[math.random(#basics)]
end

local scenarios = {}
scenarios.list = function()
  return "GET", "/api/v1/users/", bearer(caller().token)
end
scenarios.get = function()
  local c = caller()
  return "GET", "/api/v1/users/" .. c.managed[math.random(#c.managed)], bearer(c.token)
end
scenarios.update = function()
  local c = caller()
  return "PUT", "/api/v1/users/" .. c.managed[math.random(#c.managed)], bearer(c.token, JSON),
    '{"last_name": "Lee ' .. math.random(1000000) .. '"}'
end
scenarios.create = function()
  return "POST", "/api/v1/users/", bearer(writer(), JSON), '{"first_name": "Kim", "last_name": null}'
end
-- 80 % reads: 40 % list, 40 % get, 10 % update, 10 % create.
scenarios.mixed = function()
  local r = math.random(100)
  if r <= 40 then return scenarios.list() end
  if r <= 80 then return scenarios.get() end
  if r <= 90 then return scenarios.update() end
  return scenarios.create()
end
-- A grantee reads a 100-point trace of a user shared with it (data:read):
-- a read that leaves an access-log entry (C3). BENCH_DATA's `grantees`
-- holds { token = "...", path = ".../trace" } rows (bench/access-log.sh).
scenarios.grantee_trace = function()
  local g = data.grantees[math.random(#data.grantees)]
  return "GET", g.path, bearer(g.token)
end
scenarios.signin = function()
  return "POST", "/api/v1/auth/token", { ["Authorization"] = basic() }
end

scenario = os.getenv("BENCH_SCENARIO")
local pick = assert(scenarios[scenario], "unknown BENCH_SCENARIO")

function request()
  local method, path, headers, body = pick()
  return wrk.format(method, path, headers, body)
end

-- One line the runner parses: requests/s, latency percentiles (ms), errors.
function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH scenario=%s requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d errors=%d\n",
    scenario or "?", summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout,
    e.connect + e.read + e.write + e.status + e.timeout))
end
