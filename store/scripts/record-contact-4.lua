--[[
  Records a contact once (a retried webhook, a re-delivered message): the record, its place in the
  customer's history, its text (kept apart, with the retention TTL) and, for a breach, its place in the
  restriction's breach index. Every step is a no-op the second time (NX), so a retry changes nothing and
  an interrupted first attempt is completed by the retry. All keys carry the customer's hash tag
  ({c:<id>}, or {unmatched} for senders nobody could identify), so this is one atomic step on a cluster too.
  One script instead of MULTI … EXEC: one command to send, parse and answer instead of up to six.

    Input:
      KEYS[1] record        gk:{c:<id>}:contact:<contactId>
      KEYS[2] history       gk:{c:<id>}:contacts (zset, scored by receivedAt)
      KEYS[3] text          gk:{c:<id>}:contact-text:<contactId>   (written only when ARGV[4] is '1')
      KEYS[4] breach index  gk:{c:<id>}:breaches:<restrictionId>   (written only when ARGV[7] is '1';
                            otherwise any key of the same tag, conventionally KEYS[2])

      ARGV[1] StoredContact JSON
      ARGV[2] receivedAt, epoch milliseconds (the score in KEYS[2] and KEYS[4])
      ARGV[3] contact id (the member in KEYS[2] and KEYS[4])
      ARGV[4] '1' when the contact has a text, else '0'
      ARGV[5] the text (ignored unless ARGV[4] is '1'; may be empty)
      ARGV[6] text TTL in seconds
      ARGV[7] '1' when the contact breached a restriction, else '0'

    Output:
      1 when the record was new, 0 when it was already there
]]
local created = redis.call('SET', KEYS[1], ARGV[1], 'NX')
redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[3])
if ARGV[4] == '1' then
  redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[6], 'NX')
end
if ARGV[7] == '1' then
  redis.call('ZADD', KEYS[4], 'NX', ARGV[2], ARGV[3])
end
if created then
  return 1
end
return 0
