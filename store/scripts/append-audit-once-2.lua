--[[
  Appends an audit record unless one was already appended under the same idempotency key (a retried
  webhook, a re-delivered job). Guard and stream share the {audit} hash tag, so this is one atomic step
  on a cluster too: there is no moment at which a crash leaves the guard set but the record missing.

    Input:
      KEYS[1] guard    gk:{audit}:once:<key>
      KEYS[2] stream   gk:{audit}:stream

      ARGV[1] guard TTL in seconds; 0 keeps the guard for good (a key that may come back at any time, e.g. a record's own id)
      ARGV[2] approximate stream length bound (XADD MAXLEN ~)
      ARGV[3..n] field, value, field, value … of the record

    Output:
      { 1, id of the new record } or { 0, id of the record appended earlier }
]]
local existing = redis.call('GET', KEYS[1])
if existing then
  return { 0, existing }
end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
if ARGV[1] == '0' then
  redis.call('SET', KEYS[1], id)
else
  redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
end
return { 1, id }
