/**
 * Typed errors of the voice channel. Each carries a stable string `code`; none of them ever reaches Twilio
 * as a 5xx — the webhooks turn every failure into safe TwiML (emergency option plus the normal route).
 */

/** The base of the voice channel's errors. */
export class VoiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** The voice channel is misconfigured (raised at start-up, so a bad deployment fails fast). */
export class VoiceConfigError extends VoiceError {}

/** A step that has a hard time budget (the restriction lookup, the replay claim) did not finish within it. */
export class BudgetExceededError extends VoiceError {
  constructor(
    readonly step: string,
    readonly budgetMs: number,
  ) {
    super('budget-exceeded', `${step} did not finish within ${budgetMs} ms`);
  }
}

/** A webhook's form parameters are not what Twilio sends. */
export class InvalidWebhookParamsError extends VoiceError {
  constructor(readonly issues: string[]) {
    super('invalid-params', `Invalid webhook parameters: ${issues.join('; ')}`);
  }
}
