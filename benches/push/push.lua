-- wrk script of benches/push/run.sh: sends each push of a corpus once.
--
--   wrk -t1 -c64 -d SECONDS --timeout 60s -s benches/push/push.lua URL -- CORPUS SUITE_ID SKIP COUNT
--
-- CORPUS has one push per line, `QUERY<TAB>BODY` (benches/push/corpus.js).
-- This phase skips the first SKIP lines and sends the next COUNT ones (fewer
-- if the file ends first), each once, as
--   POST /callback/command/SUITE_ID?QUERY   (Content-Type: text/xml)
-- The file is read lazily, one line per request: a corpus of a million
-- pushes never sits in LuaJIT's memory.
--
-- A phase ends when wrk's -d runs out, or when every push of its COUNT has
-- been answered, whichever comes first. wrk itself only knows durations, so
-- then the script stops its thread and sends wrk a SIGINT, which wakes wrk's
-- main thread from its sleep: wrk then reports as usual, with the real
-- duration. Connections that have nothing left to send wait (delay()) rather
-- than send anything else.
--
-- response() counts answers that are not a 200 with the body `success`;
-- done() prints one `PUSH_RESULT key=value …` line (run.sh reads it) and a
-- `PUSH_BAD` line per kind of bad answer (status, count, body's start).

local ffi = require("ffi")
ffi.cdef [[
int kill(int pid, int sig);
int getpid(void);
]]
local SIGINT = 2

-- Main thread's state: the threads, for done().
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

-- Worker thread's state. Globals (not locals) are what done() reads with
-- thread:get().
sent = 0        -- requests handed to wrk
answered = 0    -- responses seen by response()
ok = 0          -- 200 + "success"
non_success = 0 -- anything else: non_200 + other_body
non_200 = 0     -- a status other than 200
other_body = 0  -- a 200 whose body is not `success`
delayed = 0     -- requests that delay() let go; the others went out on a
                -- reconnection, after a connection broke before its answer
resent = 0      -- pushes sent again after such a break, when nothing was left
bad = ""        -- "status\tcount\tbody\n" per kind of bad answer
ended = "duration"

local corpus, prefix, headers, limit
local read = 0          -- lines this phase has taken from the file
local exhausted = false -- nothing more to read for this phase
local queue, head, tail = {}, 1, 0 -- pushes read by delay(), for request()
local last_request = nil
local finished = false
local bad_kinds = {}    -- key -> {status, count, body}
local bad_order = {}

function init(args)
    local path, suite, skip, count = args[1], args[2], tonumber(args[3]), tonumber(args[4])
    if not (path and suite and skip and count) then
        error("usage: -- CORPUS SUITE_ID SKIP COUNT")
    end
    corpus = assert(io.open(path, "r"))
    for _ = 1, skip do
        if not corpus:read("*l") then break end
    end
    limit = count
    prefix = "POST /callback/command/" .. suite .. "?"
    headers = " HTTP/1.1\r\nHost: " .. wrk.headers["Host"] .. "\r\nContent-Type: text/xml\r\nContent-Length: "
    exhausted = limit <= 0
end

local function read_next()
    if exhausted then return nil end
    local line = corpus:read("*l")
    if not line then
        exhausted = true
        return nil
    end
    read = read + 1
    if read >= limit then
        exhausted = true
    end
    local tab = line:find("\t", 1, true)
    local query, body = line:sub(1, tab - 1), line:sub(tab + 1)
    return prefix .. query .. headers .. #body .. "\r\n\r\n" .. body
end

-- Every request that went through delay() has been answered (the others
-- went out on a reconnection, after a connection broke: `lost`).
local function finish_if_done()
    if not finished and exhausted and head > tail and answered >= delayed then
        finished = true
        ended = "corpus"
        wrk.thread:stop()
        ffi.C.kill(ffi.C.getpid(), SIGINT)
    end
end

-- wrk calls it before each request of a connection that has had its answer
-- (and before its first): a push is read for the request() that follows, or
-- the connection is parked for good when there is none.
function delay()
    local r = read_next()
    if r ~= nil then
        tail = tail + 1
        queue[tail] = r
        delayed = delayed + 1
        return 0
    end
    finish_if_done()
    return 24 * 3600 * 1000
end

local verified = false

function request()
    local r
    if not verified then
        -- wrk's own first call, before any connection: it parses the
        -- request to check it and sends nothing. No push is spent on it.
        verified = true
        return "POST " .. prefix:sub(6) .. " HTTP/1.1\r\nHost: " .. wrk.headers["Host"] .. "\r\nContent-Length: 0\r\n\r\n"
    end
    if head <= tail then
        r = queue[head]
        queue[head] = nil
        head = head + 1
    else
        -- More requests than delay() let go: wrk reconnected a broken
        -- connection and sends again.
        r = read_next()
        if r == nil then
            r = last_request
            resent = resent + 1
        end
    end
    sent = sent + 1
    last_request = r
    return r
end

function response(status, _, body)
    answered = answered + 1
    if status == 200 and body == "success" then
        ok = ok + 1
    else
        non_success = non_success + 1
        if status ~= 200 then
            non_200 = non_200 + 1
        else
            other_body = other_body + 1
        end
        local text = (body or ""):sub(1, 200):gsub("[\t\r\n]", " ")
        local key = status .. "\t" .. text
        local kind = bad_kinds[key]
        if kind == nil then
            kind = { status, 0, text }
            bad_kinds[key] = kind
            bad_order[#bad_order + 1] = key
        end
        kind[2] = kind[2] + 1
        local parts = {}
        for i = 1, math.min(#bad_order, 20) do
            local k = bad_kinds[bad_order[i]]
            parts[#parts + 1] = k[1] .. "\t" .. k[2] .. "\t" .. k[3] .. "\n"
        end
        bad = table.concat(parts)
    end
    finish_if_done()
end

function done(summary, latency, requests)
    local t = {
        sent = 0, answered = 0, ok = 0, non_success = 0, non_200 = 0, other_body = 0, delayed = 0, resent = 0,
    }
    local bads, ends = {}, {}
    for _, thread in ipairs(threads) do
        for k in pairs(t) do
            t[k] = t[k] + (tonumber(thread:get(k)) or 0)
        end
        bads[#bads + 1] = thread:get("bad") or ""
        ends[#ends + 1] = thread:get("ended") or "?"
    end
    -- Requests that went out on a reconnection stand for ones whose answer was lost.
    t.lost = math.max(0, t.sent - t.delayed)
    local seconds = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format(
        "PUSH_RESULT sent=%d answered=%d ok=%d non_success=%d non_200=%d other_body=%d lost=%d resent=%d "
            .. "seconds=%.3f rate=%.1f ok_rate=%.1f "
            .. "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f mean_ms=%.3f "
            .. "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d ended=%s\n",
        t.sent, t.answered, t.ok, t.non_success, t.non_200, t.other_body, t.lost, t.resent, seconds,
        summary.requests / seconds, t.ok / seconds,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency.max / 1000, latency.mean / 1000,
        e.connect, e.read, e.write, e.timeout, table.concat(ends, ",")))
    for _, b in ipairs(bads) do
        for line in b:gmatch("[^\n]+") do
            io.write("PUSH_BAD\t" .. line .. "\n")
        end
    end
end
