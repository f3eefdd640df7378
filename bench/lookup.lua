-- wrk script: GET /api/v1/customers/{id} for random ids of the generated
-- history (C0000001 .. C<CUSTOMERS>), the same sequence every run.
math.randomseed(42)
local customers = tonumber(os.getenv("CUSTOMERS"))

request = function()
  local id = string.format("C%07d", math.random(1, customers))
  return wrk.format("GET", "/api/v1/customers/" .. id)
end
