--[[
  Appends several audit records at once, each unless a record was already appended under its idempotency
  key (append-audit-once-2.lua, for a batch: the voice webhooks record every call decided in one turn of
  the event loop together). Each record is judged on its own, in order, exactly as if appended one by one;
  a key repeated within the batch appends once. The guards and the stream share the {audit} hash tag, so
  this is one atomic step on a cluster too.

    Input (the key count varies: 1 + the number of records):
      KEYS[1]        stream   gk:{audit}:stream
      KEYS[2..n+1]   guard of record i   gk:{audit}:once:<key>

      ARGV[1] guard TTL in seconds
      ARGV[2] approximate stream length bound (XADD MAXLEN ~)
      then, for each record in KEYS order: the number of field and value strings that follow (an even
      count), then field, value, field, value … of the record

    Output:
      flat { appended, id, appended, id, … } in KEYS order: appended is 1 with the new record's id, or 0
      with the id of the record appended earlier
]]
local out = {}
local at = 3
for i = 2, #KEYS do
  local count = tonumber(ARGV[at])
  local existing = redis.call('GET', KEYS[i])
  if existing then
    out[#out + 1] = 0
    out[#out + 1] = existing
  else
    local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, at + 1, at + count))
    redis.call('SET', KEYS[i], id, 'EX', ARGV[1])
    out[#out + 1] = 1
    out[#out + 1] = id
  end
  at = at + count + 1
end
return out
