--[[
  A caller lookup and one more read in a single command: the identity hash (whose values are the gate
  snapshots of the customers holding that phone number or email address) and a string key read beside it
  (for a voice webhook, the call's session, so a retried webhook replays its answer). One command instead
  of two on the gate's hot path; read-only. For a single server or Sentinel: the two keys are in different
  cluster slots (on a cluster the gate sends HGETALL and GET in one round trip instead).

    Input:
      KEYS[1] identity hash   gk:ident:{phone:<e164>} or gk:ident:{email:<address>}
      KEYS[2] the other key   e.g. gk:voice-call:<CallSid>

    Output:
      { { field, value, field, value, … } (HGETALL of KEYS[1]), GET of KEYS[2] (nil when absent) }
]]
return { redis.call('HGETALL', KEYS[1]), redis.call('GET', KEYS[2]) }
