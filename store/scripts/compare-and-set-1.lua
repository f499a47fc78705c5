--[[
  Replaces a string value only if it still holds what the caller read (optimistic update of a JSON
  record without WATCH, which does not travel well across cluster connections).

    Input:
      KEYS[1] the key

      ARGV[1] the value the caller read
      ARGV[2] the new value

    Output:
      1 replaced, 0 the value changed (or the key vanished) meanwhile
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
