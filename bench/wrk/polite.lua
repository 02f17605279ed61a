-- GET one of the paths listed in PATHS at random, as a client that honours `Retry-After`: after a
-- 503 the connection waits the seconds the server asked for before it asks again.
local paths = {}
for line in io.lines(os.getenv("PATHS")) do
  if #line > 0 then paths[#paths + 1] = line end
end
math.randomseed(os.time())
local wait = 0

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function response(status, headers, body)
  if status == 503 then
    wait = (tonumber(headers["Retry-After"] or headers["retry-after"]) or 1) * 1000
  else
    wait = 0
  end
end

function delay()
  return wait
end
