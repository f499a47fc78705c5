--[[
  Writes (or removes) one customer's snapshot in one identity hash, unless a newer snapshot of that
  customer is already there. A removal leaves its rev behind as a tombstone, so a slower, older refresh
  cannot bring the customer back to a number they no longer have.

    Input:
      KEYS[1] identity hash   gk:ident:{phone:<e164>} or gk:ident:{email:<address>}
      KEYS[2] its revs        the same key + ':rev' (hash: customer id -> rev)

      ARGV[1] customer id (the field)
      ARGV[2] rev of this snapshot
      ARGV[3] GateSnapshot JSON, or '' to remove the customer from this identity

    Output:
      1 applied, 0 skipped because a newer rev is stored
]]
local rev = tonumber(ARGV[2])
local stored = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if stored > rev then
  return 0
end

redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return 1
