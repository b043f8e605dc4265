-- A plain GET of the URL (and headers) given to wrk; a response other than 200 is a failure.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local report = require("report")

completed = 0
failed = 0

setup = report.setup
done = report.done

function response(status, headers, body)
   report.tally(status == 200)
end
