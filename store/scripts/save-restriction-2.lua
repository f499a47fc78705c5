--[[
  Creates or saves a restriction with optimistic concurrency: the write only happens if the stored
  history is as long as the caller saw it (every lifecycle step appends exactly one transition, so the
  history length is the restriction's version).

    Input:
      KEYS[1] restriction key          gk:{c:<customerId>}:restriction:<restrictionId>
      KEYS[2] customer's restriction set gk:{c:<customerId>}:restrictions

      ARGV[1] expected history length; -1 means "create: must not exist yet"
      ARGV[2] the restriction JSON to store
      ARGV[3] restriction id (member of KEYS[2])

    Output:
      { 'ok', previous status ('' on create) }
      { 'exists' }             create, but the key is taken
      { 'missing' }            save, but there is nothing to save over
      { 'conflict', length }   save, but the stored history has another length
]]
local expected = tonumber(ARGV[1])
local current = redis.call('GET', KEYS[1])

if expected < 0 then
  if current then
    return { 'exists' }
  end
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[3])
  return { 'ok', '' }
end

if not current then
  return { 'missing' }
end
local stored = cjson.decode(current)
local length = #stored['history']
if length ~= expected then
  return { 'conflict', tostring(length) }
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return { 'ok', stored['status'] }
