-- Shared by every benchmark script: done() prints the figures as one JSON line, which
-- bench/load.py reads. Latencies are in microseconds.
local report = {}

local threads = {}

function report.setup(thread)
   table.insert(threads, thread)
end

-- Count one response as completed (ok) or failed, in the thread's globals that done() sums.
function report.tally(ok)
   if ok then
      completed = completed + 1
   else
      failed = failed + 1
   end
end

local function sum_of(name)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + (thread:get(name) or 0)
   end
   return total
end

function report.done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      'BENCH-JSON {"requests": %d, "duration_us": %d, "connect_errors": %d, '
         .. '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, '
         .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, '
         .. '"completed": %d, "failed": %d}\n',
      summary.requests, summary.duration, errors.connect, errors.read, errors.write,
      errors.status, errors.timeout, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, sum_of("completed"),
      sum_of("failed")))
end

return report
