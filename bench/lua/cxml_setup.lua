-- A buyer's system opening punch-out sessions: the PunchOutSetupRequest POSTed as text/xml,
-- each with a payloadID and a BuyerCookie of its own, as a real buyer sends them (ociflex
-- accepts a repeated one, but a benchmark of repeats would measure no real traffic). An
-- answer is completed when it is a 200 with a StartPage URL. Arguments: the document, and
-- the marker in it that each request replaces with its unique part.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local report = require("report")

completed = 0
failed = 0

done = report.done

local threads = 0
-- The pieces of the document between the markers, and this thread's unique prefix.
local pieces = {}
local prefix
local sent = 0

function setup(thread)
   report.setup(thread)
   threads = threads + 1
   thread:set("number", threads)
end

local function split(document, marker)
   local from = 1
   while true do
      local at, to = document:find(marker, from, true)
      if at == nil then
         break
      end
      table.insert(pieces, document:sub(from, at - 1))
      from = to + 1
   end
   table.insert(pieces, document:sub(from))
   assert(#pieces > 1, "the marker " .. marker .. " is not in the document")
end

function init(args)
   split(args[1], args[2])
   -- The start second tells this run from the warm-up before it (each run lasts >= 1 s).
   prefix = os.time() .. "." .. number .. "."
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "text/xml; charset=UTF-8"
end

function request()
   sent = sent + 1
   return wrk.format(nil, nil, nil, table.concat(pieces, prefix .. sent))
end

function response(status, headers, body)
   report.tally(status == 200 and body:find("<StartPage>%s*<URL>[^<]+</URL>") ~= nil)
end
