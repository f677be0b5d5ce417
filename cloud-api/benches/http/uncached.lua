-- wrk -s uncached.lua: like me.lua (ACCESS_TOKEN from the environment), with a query
-- parameter that differs on every request, so no answer kept in memory is ever reused: the
-- cost of a read that goes to the database. The path must already have a query string.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ACCESS_TOKEN")
local n = 0
local thread_tag = tostring(math.random(1, 1000000000))
request = function()
  n = n + 1
  return wrk.format(nil, wrk.path .. "&uncached=" .. thread_tag .. "-" .. n)
end
