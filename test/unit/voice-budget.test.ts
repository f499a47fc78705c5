import { BackgroundTasks } from '../../channels/voice/background';
import { Deadline, withinBudget } from '../../channels/voice/budget';
import { callContext } from '../../channels/voice/call-context';
import { BudgetExceededError } from '../../channels/voice/errors';
import type { Decision, GateSnapshot } from '../../rules/types';

function later<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

describe('withinBudget', () => {
  it('passes a result through', async () => {
    await expect(withinBudget('step', 1000, Promise.resolve(42))).resolves.toBe(42);
  });

  it('passes a failure through', async () => {
    await expect(withinBudget('step', 1000, Promise.reject(new Error('down')))).rejects.toThrow('down');
  });

  it('gives up with a typed error when the work overruns, and swallows its late failure', async () => {
    const slow = later(200, 'late').then(() => {
      throw new Error('late failure');
    });
    const error = await withinBudget('restriction lookup', 5, slow).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error).toMatchObject({ code: 'budget-exceeded', step: 'restriction lookup', budgetMs: 5 });
    await later(250, undefined); // the late rejection must not surface as unhandled (Jest would fail the run)
  });

  it('fails at once with no budget left', async () => {
    await expect(withinBudget('claim', 0, later(10, 1))).rejects.toBeInstanceOf(BudgetExceededError);
  });

  it('clears its timer: a settled race leaves nothing pending', async () => {
    jest.useFakeTimers();
    try {
      await withinBudget('step', 10_000, Promise.resolve('done'));
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('Deadline', () => {
  it('shares one budget between steps', async () => {
    let now = 0;
    const deadline = new Deadline(100, () => now);
    expect(deadline.remaining()).toBe(100);
    now = 70;
    expect(deadline.remaining()).toBe(30);
    now = 130;
    expect(deadline.remaining()).toBe(0);
    await expect(deadline.run('second step', later(5, 'x'))).rejects.toBeInstanceOf(BudgetExceededError);
  });
});

describe('BackgroundTasks', () => {
  it('runs work without waiting, reports failures by task name, and can be waited for', async () => {
    const failures: string[] = [];
    const tasks = new BackgroundTasks((task) => failures.push(task));
    const done: string[] = [];
    const settled = tasks.run('ok', async () => {
      await later(5, undefined);
      done.push('ok');
    });
    void tasks.run('broken', async () => {
      throw new Error('redis down');
    });
    expect(done).toEqual([]);
    expect(tasks.size).toBe(2);
    await tasks.idle();
    await expect(settled).resolves.toBeUndefined();
    expect(done).toEqual(['ok']);
    expect(failures).toEqual(['broken']);
    expect(tasks.size).toBe(0);
  });
});

describe('callContext', () => {
  const snapshot: GateSnapshot = {
    customerId: 'C1',
    name: 'n',
    needs: [],
    restrictions: [
      { id: 'R0', status: 'active', measures: [{ type: 'word-limit', maxWords: 10 }], adjustments: [], exceptions: [], appealed: false },
      {
        id: 'R1',
        status: 'active',
        measures: [{ type: 'named-contact', staffId: 'jsmith', deputyId: 'gone' }],
        reviewAt: '2026-01-01T00:00:00.000Z',
        adjustments: [],
        exceptions: [],
        appealed: false,
      },
    ],
    staff: { jsmith: { id: 'jsmith', name: 'J Smith', phone: '+447700900001' } },
  };
  const decision: Decision = { outcome: 'proceed', customerId: 'C1', restrictionId: 'R1', routeTo: 'jsmith', reasons: ['named-contact'], agentFlags: [] };

  it('takes the review date from the restriction the decision names, and the named contact from the snapshot', () => {
    expect(callContext(decision, { kind: 'resolved', snapshot })).toEqual({
      reviewAt: '2026-01-01T00:00:00.000Z',
      routeTo: snapshot.staff.jsmith,
    });
  });

  it('has nothing to add for unidentified, ambiguous or unchecked callers', () => {
    expect(callContext(decision, { kind: 'unavailable' })).toEqual({});
    expect(callContext(decision, { kind: 'ambiguous', customerIds: ['a', 'b'] })).toEqual({});
  });
});
