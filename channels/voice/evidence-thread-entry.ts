/**
 * The evidence thread itself (see evidence-thread.ts): its own Redis connections to the gateway's target,
 * the store's repositories over them, and a {@link DirectCallWriter} that writes each batch it is posted,
 * as it is posted. Never loaded on the main thread.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

import { createLogger } from '../../config/logger';
import { closeConnection, createEvidenceConnection, createStore } from '../../store';
import { DirectCallWriter } from './call-recorder';
import { RedisCallSessions } from './call-session';
import { VoiceEvidence } from './evidence';
import type { EvidenceThreadData, FromEvidenceThread, ThreadFailure, ToEvidenceThread } from './evidence-thread';

function failureOf(error: unknown): ThreadFailure {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    name: error instanceof Error ? error.name : 'Error',
    message: error instanceof Error ? error.message : String(error),
    ...(typeof code === 'string' ? { code } : {}),
  };
}

/**
 * The thread's scheduling priority (nice value, 0–19; higher yields more). Answering calls comes first: when
 * the cores are contended, this thread's writes wait rather than the gateway's answers. On Linux a nice
 * value set from a thread applies to that thread alone (`setpriority` with pid 0 is per thread there).
 */
const EVIDENCE_NICE = 10;

function lowerPriority(): void {
  try {
    setPriority(EVIDENCE_NICE);
  } catch {
    // Not permitted or not supported here: the thread runs at the process's priority, which is only slower.
  }
}

function main(): void {
  const port = parentPort;
  if (port === null) throw new Error('evidence-thread-entry runs only as a worker thread');
  const data = workerData as EvidenceThreadData;
  lowerPriority();
  const logger = createLogger(data.logLevel);
  const redis = createEvidenceConnection(data.target, { name: `${data.name}-evidence` });
  const store = createStore(redis, {
    ...(data.region !== undefined ? { region: data.region } : {}),
    ...(data.textRetentionDays !== undefined ? { textRetentionDays: data.textRetentionDays } : {}),
    ...(data.auditMaxLength !== undefined ? { auditMaxLength: data.auditMaxLength } : {}),
    ...(data.auditOnceTtlSeconds !== undefined ? { auditOnceTtlSeconds: data.auditOnceTtlSeconds } : {}),
  });
  const writer = new DirectCallWriter(
    new RedisCallSessions(redis),
    new VoiceEvidence({ contacts: store.contacts, audit: store.audit, events: redis }),
    logger,
  );

  // Batches are written as they come, concurrently (their calls are distinct: a retry of a call still in
  // flight is answered from the gateway's memory and never posted twice); a close waits for all of them.
  const writing = new Set<Promise<void>>();
  port.on('message', (message: ToEvidenceThread) => {
    if (message.type === 'close') {
      void Promise.allSettled([...writing])
        .then(() => closeConnection(redis))
        .finally(() => {
          port.postMessage({ type: 'closed' } satisfies FromEvidenceThread);
          // Ends this thread only (not the process), whatever timers a client left behind.
          process.exit(0);
        });
      return;
    }
    const done = writer.write(message.calls).then(
      () => port.postMessage({ type: 'written', id: message.id } satisfies FromEvidenceThread),
      (error: unknown) => port.postMessage({ type: 'written', id: message.id, failure: failureOf(error) } satisfies FromEvidenceThread),
    );
    writing.add(done);
    void done.finally(() => writing.delete(done));
  });
}

main();
