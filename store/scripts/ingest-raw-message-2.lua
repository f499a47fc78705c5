--[[
  Stores one inbound message's raw RFC 822 bytes and its metadata, unless a message with the same key
  (normalised Message-ID, or SHA-256 of the bytes) is already stored. Both keys share the message's
  hash tag, so on a cluster this is one atomic step: there is never a body without its metadata.

  The body arrives as several ARGV chunks (as the SMTP stream delivered it) and is joined here, so the
  sending process never has to hold a second, concatenated copy of a large message.

    Input:
      KEYS[1] body   gk:raw:{<messageKey>}:body   string
      KEYS[2] meta   gk:raw:{<messageKey>}:meta   hash

      ARGV[1] retention TTL in seconds
      ARGV[2] receivedAt (ISO instant)
      ARGV[3] size in bytes
      ARGV[4] SHA-256 of the bytes (hex)
      ARGV[5] source: smtp | http
      ARGV[6] '1' when an SMTP envelope sender is known, else '0'
      ARGV[7] the envelope sender (MAIL FROM), '' for a null return path
      ARGV[8..n] the body, in chunks

    Output:
      { status, sameContent }
        status 'new'      — stored now; the caller must queue it
        status 'unqueued' — stored earlier, but no job was queued (the earlier attempt failed half-way)
        status 'queued'   — stored and queued earlier: a duplicate delivery, nothing to do
        sameContent 1 when the stored bytes have the same SHA-256, else 0
]]
local meta = redis.call('HMGET', KEYS[2], 'receivedAt', 'queuedAt', 'sha256')
if meta[1] then
  redis.call('HINCRBY', KEYS[2], 'deliveries', 1)
  local same = 0
  if meta[3] == ARGV[4] then same = 1 end
  if meta[2] then return { 'queued', same } end
  return { 'unqueued', same }
end

local ttl = tonumber(ARGV[1])
redis.call('SET', KEYS[1], table.concat(ARGV, '', 8, #ARGV), 'EX', ttl)
redis.call('HSET', KEYS[2], 'receivedAt', ARGV[2], 'size', ARGV[3], 'sha256', ARGV[4], 'source', ARGV[5], 'deliveries', 1)
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[2], 'mailFrom', ARGV[7])
end
redis.call('EXPIRE', KEYS[2], ttl)
return { 'new', 1 }
