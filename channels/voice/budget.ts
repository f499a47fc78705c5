/**
 * Hard time budgets. A live caller waits while Gatekeeper asks Redis, so every Redis step before the
 * answer is raced against a timer; when the timer wins the call goes on without the answer (normal route,
 * emergency option, flagged `restriction-check-unavailable`) instead of waiting for a slow or dead server.
 */
import { BudgetExceededError } from './errors';

const ignore = (): undefined => undefined;

/**
 * Resolves with `work`'s result, or rejects with {@link BudgetExceededError} once `budgetMs` has passed,
 * whichever comes first. The timer is always cleared, and a late rejection of `work` is swallowed (it has
 * nobody left to tell, and must not become an unhandled rejection).
 * @param step names the step in the error, e.g. `restriction lookup`.
 */
export function withinBudget<T>(step: string, budgetMs: number, work: Promise<T>): Promise<T> {
  work.catch(ignore);
  if (budgetMs <= 0) return Promise.reject(new BudgetExceededError(step, budgetMs));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BudgetExceededError(step, budgetMs)), budgetMs);
  });
  const clear = (): void => clearTimeout(timer);
  const raced = Promise.race([work, timeout]);
  raced.then(clear, clear);
  return raced;
}

/**
 * A deadline shared by several steps, so that together they stay within one budget (the replay check and
 * the caller lookup share the caller's wait). The steps share one timer, too: it starts with the first
 * step and is cleared as soon as no step is waiting on it.
 */
export class Deadline {
  private readonly endsAt: number;
  /** Settles (never rejects) when the budget runs out; `undefined` while no step is waiting. */
  private expiry: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private waiting = 0;

  /** @param budgetMs the whole budget; `clock` returns milliseconds (default `performance.now`). */
  constructor(
    readonly budgetMs: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.endsAt = clock() + budgetMs;
  }

  /** Milliseconds left (never negative). */
  remaining(): number {
    return Math.max(0, Math.floor(this.endsAt - this.clock()));
  }

  /** Races `work` against what is left of the budget; the error names `step` and the milliseconds it had. */
  run<T>(step: string, work: Promise<T>): Promise<T> {
    work.catch(ignore);
    const left = this.remaining();
    if (left <= 0) return Promise.reject(new BudgetExceededError(step, left));
    this.waiting += 1;
    const expired = this.expiryWithin(left).then((): never => {
      throw new BudgetExceededError(step, left);
    });
    const raced = Promise.race([work, expired]);
    const done = (): void => {
      this.waiting -= 1;
      if (this.waiting === 0) this.stop();
    };
    raced.then(done, done);
    return raced;
  }

  private expiryWithin(ms: number): Promise<void> {
    if (this.expiry === undefined) {
      this.expiry = new Promise<void>((resolve) => {
        this.timer = setTimeout(resolve, ms);
      });
    }
    return this.expiry;
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.expiry = undefined;
  }
}
