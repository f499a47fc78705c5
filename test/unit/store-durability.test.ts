/**
 * Reading `INFO replication` for the write confirmation (store/durability.ts): only streaming replicas can
 * confirm, and the primary is known by its replication id (a promoted replica gets a new one).
 */
import { parseReplicationInfo } from '../../store/durability';

const PRIMARY = [
  '# Replication',
  'role:master',
  'connected_slaves:2',
  'slave0:ip=127.0.0.1,port=6380,state=online,offset=1234,lag=0',
  'slave1:ip=127.0.0.1,port=6381,state=wait_bgsave,offset=0,lag=0',
  'master_failover_state:no-failover',
  'master_replid:8f1c0ad1b6a1f2a9e2b5f43fbc1f0d8e7e6a5b4c',
  'master_replid2:0000000000000000000000000000000000000000',
  'master_repl_offset:1234',
  '',
].join('\r\n');

const REPLICA = ['# Replication', 'role:slave', 'master_host:127.0.0.1', 'master_port:6379', 'master_link_status:up', 'connected_slaves:0', 'master_replid:8f1c0ad1b6a1f2a9e2b5f43fbc1f0d8e7e6a5b4c', ''].join('\r\n');

describe('parseReplicationInfo', () => {
  it('counts only the replicas that are streaming', () => {
    expect(parseReplicationInfo(PRIMARY)).toEqual({ role: 'master', replicas: 1, replicationId: '8f1c0ad1b6a1f2a9e2b5f43fbc1f0d8e7e6a5b4c' });
  });

  it('reads a replica as a replica with none of its own', () => {
    expect(parseReplicationInfo(REPLICA)).toMatchObject({ role: 'slave', replicas: 0 });
  });

  it('reads a primary without replicas, and an unreadable answer as unknown', () => {
    expect(parseReplicationInfo('# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_replid:abc\r\n')).toEqual({ role: 'master', replicas: 0, replicationId: 'abc' });
    expect(parseReplicationInfo('')).toEqual({ role: 'unknown', replicas: 0, replicationId: '' });
  });
});
