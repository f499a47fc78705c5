--[[
  Forgets identity keys a customer's snapshot has been removed from, but only if no refresh has started
  since (otherwise that refresh may be writing one of them again, and must keep tracking it).

    Input:
      KEYS[1] the customer's rev counter  gk:{c:<customerId>}:rev
      KEYS[2] identity keys               gk:{c:<customerId>}:idents (set)

      ARGV[1] rev of the refresh that removed the snapshots
      ARGV[2..n] identity hash keys to forget

    Output:
      number of keys forgotten, or -1 when a newer refresh has started (nothing forgotten)
]]
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then
  return -1
end
return redis.call('SREM', KEYS[2], unpack(ARGV, 2))
