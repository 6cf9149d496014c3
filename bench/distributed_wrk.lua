-- wrk script of bench/distributed_bench.py: GET one forecast with a bearer token, at a fixed rate per connection
-- (wrk has no -R; delay() spaces each connection's requests so the total stays near HEADROOM_RATE req/s,
-- less the mean latency measured in a warm-up),
-- then print the latency percentiles as one JSON line.
local token = os.getenv("HEADROOM_TOKEN")
local path = os.getenv("HEADROOM_PATH")
local rate = tonumber(os.getenv("HEADROOM_RATE"))         -- requests per second for this wrk
local connections = tonumber(os.getenv("HEADROOM_CONNECTIONS"))
local latency_ms = tonumber(os.getenv("HEADROOM_LATENCY_MS") or "0")  -- from a warm-up run: wrk's loop is closed

request = function()
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

delay = function()
  -- milliseconds a connection waits after a response, so that its requests start every connections/rate seconds
  return math.max(0, 1000 * connections / rate - latency_ms)
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "seconds": %.2f, "rate": %.2f, "errors": %d, "non2xx": %d, "mean_ms": %.2f, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, seconds, summary.requests / seconds,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
