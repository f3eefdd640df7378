-- wrk script: GET /api/v1/customers/{id} for random ids of the generated
-- history (C0000001 .. C<CUSTOMERS>), the same sequence every run.
-- With RATE set, each of the CONNECTIONS connections waits between its
-- requests so that together they send about RATE requests per second
-- (wrk has no rate option; wrk2 is not packaged).
math.randomseed(42)
local customers = tonumber(os.getenv("CUSTOMERS"))
local rate = tonumber(os.getenv("RATE") or "")
local connections = tonumber(os.getenv("CONNECTIONS") or "64")
-- QUERY (such as "?explain=false") is appended to every path.
local query = os.getenv("QUERY") or ""

request = function()
  local id = string.format("C%07d", math.random(1, customers))
  return wrk.format("GET", "/api/v1/customers/" .. id .. query)
end

if rate then
  delay = function()
    return 1000 * connections / rate
  end
end
