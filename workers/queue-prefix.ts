/**
 * The BullMQ key prefix of every Gatekeeper queue. The braces make it a Redis Cluster hash tag: all of a
 * queue's keys (and BullMQ's multi-key Lua scripts over them) land in one slot, as BullMQ requires on a
 * cluster. No ioredis `keyPrefix` is used anywhere (BullMQ does not support it).
 */
export const QUEUE_PREFIX = '{gk}';
