/**
 * Hard time budgets. A live caller waits while Gatekeeper asks Redis, so every Redis step before the
 * answer is raced against a timer; when the timer wins the call goes on without the answer (normal route,
 * emergency option, flagged `restriction-check-unavailable`) instead of waiting for a slow or dead server.
 */
import { BudgetExceededError } from './errors';

/**
 * Resolves with `work`'s result, or rejects with {@link BudgetExceededError} once `budgetMs` has passed,
 * whichever comes first. The timer is always cleared, and a late rejection of `work` is swallowed (it has
 * nobody left to tell, and must not become an unhandled rejection).
 * @param step names the step in the error, e.g. `restriction lookup`.
 */
export async function withinBudget<T>(step: string, budgetMs: number, work: Promise<T>): Promise<T> {
  if (budgetMs <= 0) {
    work.catch(() => undefined);
    throw new BudgetExceededError(step, budgetMs);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BudgetExceededError(step, budgetMs)), budgetMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined);
  }
}

/**
 * A deadline shared by several steps, so that together they stay within one budget (the lookup and the
 * replay claim share the caller's wait).
 */
export class Deadline {
  private readonly endsAt: number;

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

  /** Races `work` against what is left of the budget. */
  async run<T>(step: string, work: Promise<T>): Promise<T> {
    return withinBudget(step, this.remaining(), work);
  }
}
