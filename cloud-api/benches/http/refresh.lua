-- wrk -s refresh.lua (one connection per thread): POST /api/auth/refresh, each thread
-- rotating its own session from the file REFRESH_FILE (one token per line) and following
-- the rotated cookie, as a browser would.
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  local i = 0
  for line in io.lines(os.getenv("REFRESH_FILE")) do
    i = i + 1
    if i == id then token = line end
  end
  failures = 0
end

function request()
  return wrk.format("POST", "/api/auth/refresh", { ["Cookie"] = "refreshToken=" .. token }, "")
end

function response(status, headers, body)
  if status ~= 200 then failures = failures + 1 end
  local cookie = headers["Set-Cookie"] or headers["set-cookie"]
  if cookie then
    local t = string.match(cookie, "refreshToken=([0-9a-f]+)")
    if t then token = t end
  end
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("thread %d non-200: %d\n", thread:get("id"), thread:get("failures")))
  end
end
