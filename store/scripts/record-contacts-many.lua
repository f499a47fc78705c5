--[[
  Records several contacts at once, each exactly as record-contact-4.lua records one (every step NX, so a
  retry changes nothing and completes an interrupted attempt). For a single server or Sentinel only: the
  contacts of different customers live in different cluster slots (there, record-contact-4.lua is sent
  per contact). One command for a whole batch instead of one per contact: the voice webhooks record every
  call decided in one turn of the event loop together, and per-command cost is most of what a small
  script costs, on both the client and the server.

    Input (the key count varies: 4 per contact):
      KEYS[4i-3..4i]  contact i's KEYS[1..4] of record-contact-4.lua (record, history, text, breach index)
      ARGV[7i-6..7i]  contact i's ARGV[1..7] of record-contact-4.lua

    Output:
      { created, created, … } in order: 1 when contact i was new, 0 when it was already there
]]
local out = {}
for i = 0, (#KEYS / 4) - 1 do
  local k = i * 4
  local a = i * 7
  local created = redis.call('SET', KEYS[k + 1], ARGV[a + 1], 'NX')
  redis.call('ZADD', KEYS[k + 2], 'NX', ARGV[a + 2], ARGV[a + 3])
  if ARGV[a + 4] == '1' then
    redis.call('SET', KEYS[k + 3], ARGV[a + 5], 'EX', ARGV[a + 6], 'NX')
  end
  if ARGV[a + 7] == '1' then
    redis.call('ZADD', KEYS[k + 4], 'NX', ARGV[a + 2], ARGV[a + 3])
  end
  if created then
    out[i + 1] = 1
  else
    out[i + 1] = 0
  end
end
return out
