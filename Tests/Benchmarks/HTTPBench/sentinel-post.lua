-- wrk script for make bench-http: POSTs the guide's Sentinel event (severity medium) to /api/v1/events/sentinel,
-- each request with an event_id of its own (run id, thread, counter), the API key from the environment.
local template = os.getenv("BENCH_BODY_TEMPLATE")
local key = os.getenv("BENCH_API_KEY")
local run = os.getenv("BENCH_RUN")
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local counter = 0
function request()
  counter = counter + 1
  local body = string.gsub(template, "EVENT_ID", run .. "-" .. tid .. "-" .. counter)
  return wrk.format("POST", "/api/v1/events/sentinel",
    { ["Content-Type"] = "application/json", ["X-API-Key"] = key }, body)
end
