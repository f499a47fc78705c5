--[[
  `SET key value EX ttl NX GET` for several keys in one command: each key is set unless it holds a value
  already, which is returned instead. For a single server or Sentinel only (the keys may lie in different
  cluster slots; there, one SET per key). Used to claim every call decided in one turn of the gateway's
  event loop (channels/voice/call-session.ts) with one command instead of one per call.

    Input (the key count varies):
      KEYS[i]    the i-th key
      ARGV[1]    TTL in seconds
      ARGV[i+1]  the value for KEYS[i]

    Output:
      { previous, previous, … } in KEYS order: nil where the key was free (and is now set), else the value
      it already held (and still holds)
]]
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('SET', KEYS[i], ARGV[i + 1], 'EX', ARGV[1], 'NX', 'GET')
end
return out
