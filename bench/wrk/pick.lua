-- GET one of the paths listed (one per line) in the file named by the PATHS environment variable,
-- at random, with the bearer token in TOKEN if set.
local paths = {}
for line in io.lines(os.getenv("PATHS")) do
  if #line > 0 then paths[#paths + 1] = line end
end
local token = os.getenv("TOKEN")
math.randomseed(os.time())

function request()
  local headers = {}
  if token and #token > 0 then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
