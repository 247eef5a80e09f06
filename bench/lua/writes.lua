-- The wrk script of bench/events.sh: BENCH_SCENARIO is create, update,
-- delete or mixed; BENCH_DATA names a Lua file that returns
--   { writers = { { token = "...", users = { "id", ... } }, ... },
--     doomed = { { token = "...", id = "..." }, ... } }
-- `delete` deletes each of `doomed` once: every wrk thread takes its own
-- share of them (thread t the ones whose index is t modulo the threads),
-- from BENCH_DOOMED_FROM on (0: the first), so that a warm-up run can
-- delete others than the measured run does.

local data = dofile(os.getenv("BENCH_DATA"))
local threads = tonumber(os.getenv("BENCH_THREADS") or "2")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

local next_doomed
function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  next_doomed = tonumber(os.getenv("BENCH_DOOMED_FROM") or "0") + (tid or 1)
end

local function writer()
  return data.writers[math.random(#data.writers)]
end

local function bearer(token)
  return { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
end

local scenarios = {}
scenarios.create = function()
  return "POST", "/api/v1/users/", bearer(writer().token), '{"first_name": "Kim", "last_name": null}'
end
scenarios.update = function()
  local w = writer()
  return "PUT", "/api/v1/users/" .. w.users[math.random(#w.users)], bearer(w.token),
    '{"last_name": "Lee ' .. math.random(1000000) .. '"}'
end
scenarios.delete = function()
  local d = data.doomed[next_doomed]
  assert(d, "bench/events.sh seeded too few users to delete")
  next_doomed = next_doomed + threads
  return "DELETE", "/api/v1/users/" .. d.id, bearer(d.token)
end
scenarios.get = function()
  local w = writer()
  return "GET", "/api/v1/users/" .. w.users[math.random(#w.users)], bearer(w.token)
end
-- The relay's load: every kind of write, and reads beside them.
scenarios.mixed = function()
  local r = math.random(100)
  if r <= 40 then return scenarios.get() end
  if r <= 70 then return scenarios.update() end
  if r <= 90 then return scenarios.create() end
  return scenarios.delete()
end

local pick = assert(scenarios[os.getenv("BENCH_SCENARIO")], "unknown BENCH_SCENARIO")

function request()
  local method, path, headers, body = pick()
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d status_errors=%d\n",
    summary.requests, summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.status + e.timeout, e.status))
end
