-- The whole punch-out on one connection per wrk thread (run with as many threads as
-- connections): the ERP's call-up (POST), the booking form's token read from the page, the
-- booking posted with it, the basket page. A basket page (the OCI form to HOOK_URL) is one
-- completed booking. Arguments: customer, call-up body, booking body (without the token).
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local report = require("report")

completed = 0
failed = 0
local token = nil
local customer, callup, booking

setup = report.setup
done = report.done

function init(args)
   customer, callup, booking = args[1], args[2], args[3]
end

local function escape(text)
   return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
   local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
   if token == nil then
      return wrk.format("POST", "/oci/" .. customer, headers, callup)
   end
   local body = "punchout=" .. escape(token) .. "&" .. booking
   return wrk.format("POST", "/oci/" .. customer .. "/book", headers, body)
end

function response(status, headers, body)
   if token == nil then
      local at = body:find('name="punchout"', 1, true)
      if status == 200 and at then
         token = body:match('value="([^"]*)"', at)
      else
         failed = failed + 1
      end
      return
   end
   token = nil
   report.tally(status == 200 and body:find("NEW_ITEM-EXT_QUOTE_ID", 1, true) ~= nil)
end
