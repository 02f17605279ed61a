-- Creates a draft dossier, then submits it: two requests per dossier. PROCEDURE and AGENCY name a
-- procedure without mandatory documents; TOKEN is an applicant's.
local token = os.getenv("TOKEN")
local body = string.format(
  '{"procedure_id":"%s","agency_id":"%s","form_data":{},"delivery":{"method":"online"}}',
  os.getenv("PROCEDURE"), os.getenv("AGENCY"))
-- Drafts waiting to be submitted (connections of a thread share this state).
local pending = {}

function request()
  local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  local id = table.remove(pending)
  if id then
    return wrk.format("POST", "/api/v1/dossiers/" .. id .. "/submit", headers, "{}")
  end
  return wrk.format("POST", "/api/v1/dossiers", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    pending[#pending + 1] = string.match(body, '"id":"([0-9a-f%-]+)"')
  end
end
