-- The ERP's call-up as a POST: the booking form page. Arguments: the call-up's form body.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local report = require("report")

completed = 0
failed = 0

setup = report.setup
done = report.done

function init(args)
   wrk.method = "POST"
   wrk.body = args[1]
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function response(status, headers, body)
   report.tally(status == 200 and body:find('name="punchout"', 1, true) ~= nil)
end
