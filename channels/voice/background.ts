/**
 * Work that must not delay the caller's TwiML — recording evidence, publishing screen-pops — runs after
 * the answer is sent. This keeps track of it so that a graceful shutdown (and a test) can wait for it to
 * finish, and so that a failure is logged instead of becoming an unhandled rejection.
 */

/** Where a failed background task is reported; the logger redacts numbers, and callers pass no numbers anyway. */
export type BackgroundFailureHandler = (task: string, error: unknown) => void;

/** A set of in-flight fire-and-forget tasks. */
export class BackgroundTasks {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly onFailure: BackgroundFailureHandler) {}

  /**
   * Starts `work` now without waiting for it. Its failure is passed to the failure handler.
   * @param task a short name for logs, e.g. `record-decision`.
   * @returns a promise that settles (never rejects) when the work is done, for a caller that wants to wait.
   */
  run(task: string, work: () => Promise<void>): Promise<void> {
    const p: Promise<void> = (async () => {
      try {
        await work();
      } catch (error) {
        this.onFailure(task, error);
      }
    })();
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return p;
  }

  /** How many tasks are still running. */
  get size(): number {
    return this.pending.size;
  }

  /** Resolves when every task started so far (and any they start) has finished. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
