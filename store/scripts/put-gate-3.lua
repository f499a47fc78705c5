--[[
  Writes a customer's gate snapshot unless a newer one is already there, and records the identity
  keys the snapshot is about to be written to (before they are written, so an interrupted refresh never
  loses track of a copy).

    Input:
      KEYS[1] gate snapshot   gk:{c:<customerId>}:gate
      KEYS[2] its rev         gk:{c:<customerId>}:gate-rev
      KEYS[3] identity keys   gk:{c:<customerId>}:idents (set)

      ARGV[1] rev of this snapshot (from INCR gk:{c:<customerId>}:rev when its data was read)
      ARGV[2] GateSnapshot JSON, or '' when the customer no longer exists
      ARGV[3..n] identity hash keys to add to KEYS[3]

    Output:
      1 written (or deleted), 0 skipped because a newer rev is stored
]]
if #ARGV >= 3 then
  redis.call('SADD', KEYS[3], unpack(ARGV, 3))
end

local rev = tonumber(ARGV[1])
local stored = tonumber(redis.call('GET', KEYS[2]) or '0')
if stored > rev then
  return 0
end

redis.call('SET', KEYS[2], ARGV[1])
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
