-- wrk script for every workload of bench/run.mjs (run with -t1, so one Lua
-- state makes every request and the counters below are unique in a run).
--   wrk -t1 -cC -dDs -s bench/load.lua URL -- WORKLOAD TAG OFFSET SEGMENTS MARKER NOW
-- TAG makes created names unique across runs; OFFSET is the first pool host
-- this run may send a notification for; SEGMENTS is how many seeded segments
-- to address; MARKER is the id used as the paging marker.

local workload, tag, offset, segments, marker, now
local counter = 0
-- Global, so done() (in wrk's main Lua state) can read it from the thread.
notified = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end
local json = { ["Content-Type"] = "application/json" }

function init(args)
  workload, tag = args[1], args[2]
  offset, segments, marker, now = tonumber(args[3]), tonumber(args[4]), args[5], args[6]
end

local function segment_uuid(i)
  return string.format("00000000-0000-4000-8000-%012d", i)
end

local kinds = {}

kinds["show-segment"] = function()
  return wrk.format("GET", "/v1/segments/" .. segment_uuid(counter % segments + 1))
end

kinds["list-segments"] = function()
  return wrk.format("GET", "/v1/segments")
end

-- The first page, as big as the whole list of 100 seeded segments: at every
-- scale it returns the same number of rows.
kinds["list-segments-first-100"] = function()
  return wrk.format("GET", "/v1/segments?limit=100")
end

kinds["list-segments-page"] = function()
  return wrk.format("GET", "/v1/segments?limit=50&sort_key=name&marker=" .. marker)
end

kinds["list-notifications-new"] = function()
  return wrk.format("GET", "/v1/notifications?status=new")
end

kinds["list-notifications-new-first-100"] = function()
  return wrk.format("GET", "/v1/notifications?status=new&limit=100")
end

kinds["create-segment"] = function()
  local body = string.format(
    '{"segment": {"name": "b-%s-%d", "recovery_method": "auto", "service_type": "COMPUTE"}}', tag, counter)
  return wrk.format("POST", "/v1/segments", json, body)
end

kinds["create-host"] = function()
  local body = string.format(
    '{"host": {"name": "bh-%s-%d", "type": "COMPUTE", "control_attributes": "SSH"}}', tag, counter)
  return wrk.format("POST", "/v1/segments/" .. segment_uuid(counter % segments + 1) .. "/hosts", json, body)
end

-- A distinct pool host every time, so no notification is a duplicate.
kinds["create-notification"] = function()
  notified = notified + 1
  local body = string.format(
    '{"notification": {"type": "COMPUTE_HOST", "hostname": "host-%07d", "generated_time": "%s", ' ..
    '"payload": {"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}}}',
    offset + notified - 1, now)
  return wrk.format("POST", "/v1/notifications", json, body)
end

-- 70 % reads, 30 % writes.
kinds["mix"] = function()
  local r = math.random(100)
  if r <= 40 then return kinds["show-segment"]() end
  if r <= 70 then return kinds["list-segments-page"]() end
  if r <= 80 then return kinds["create-segment"]() end
  if r <= 90 then return kinds["create-host"]() end
  return kinds["create-notification"]()
end

function request()
  counter = counter + 1
  return kinds[workload]()
end

function done(summary, latency, requests)
  local e = summary.errors
  local sent = 0
  for _, thread in ipairs(threads) do
    sent = sent + (thread:get("notified") or 0)
  end
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "notified": %d, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, sent, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
