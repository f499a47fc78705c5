/**
 * Responses recorded by staff (`POST /v1/customers/:id/responses`). Recording one copies the text of
 * each contact it answers into the customer's responded list, the basis of "new issues only" repeat
 * detection (DESIGN.md §3): a later contact that repeats a responded-to one is recognised, and the
 * acknowledgement can quote the earlier response's reference.
 */
import type { RespondedContact } from '../rules/types';
import type { RedisConnection } from './connections';
import { execResults, guard, parseRecord } from './guard';
import { assertSafeId, customerKeys } from './keys';
import { DEFAULT_TEXT_RETENTION_DAYS } from './contact-repository';
import type { RecordedResponse, ResponseInput } from './types';

/** Options of {@link ResponseRepository}. */
export interface ResponseRepositoryOptions {
  /**
   * Retention of responded texts, in days: the responded list expires this long after the last response
   * recorded for the customer. @default 400
   */
  textRetentionDays?: number;
}

/** Parses responded-list values, newest response first. */
export function parseResponded(key: string, values: string[]): RespondedContact[] {
  return values
    .map((json) => parseRecord<RespondedContact>(key, json))
    .sort((a, b) => b.respondedAt.localeCompare(a.respondedAt) || a.contactId.localeCompare(b.contactId));
}

/** Records responses and serves the responded-to contacts. */
export class ResponseRepository {
  private readonly ttlSeconds: number;

  constructor(
    private readonly redis: RedisConnection,
    options: ResponseRepositoryOptions = {},
  ) {
    this.ttlSeconds = Math.round((options.textRetentionDays ?? DEFAULT_TEXT_RETENTION_DAYS) * 86_400);
  }

  /**
   * Records a response (idempotent by `reference`: recording it again replaces it) and copies the text
   * of each contact it names into the responded list. A contact answered twice keeps the latest answer.
   * @returns which contacts' texts were copied, and which had none (unknown, expired, or calls).
   */
  async record(customerId: string, response: ResponseInput): Promise<RecordedResponse> {
    const keys = customerKeys(customerId);
    const contactIds = [...new Set(response.contactIds)];
    for (const id of contactIds) assertSafeId(id, 'contact');
    return guard(async () => {
      const texts = contactIds.length > 0 ? await this.redis.mget(contactIds.map(keys.contactText)) : [];
      const copied: string[] = [];
      const missing: string[] = [];
      // One slot: the response and the copies are written together or not at all.
      const tx = this.redis.multi().hset(keys.responses, response.reference, JSON.stringify({ ...response, contactIds }));
      contactIds.forEach((contactId, i) => {
        const text = texts[i];
        if (text === null || text === undefined) {
          missing.push(contactId);
          return;
        }
        const entry: RespondedContact = { contactId, text, respondedAt: response.respondedAt, reference: response.reference };
        tx.hset(keys.responded, contactId, JSON.stringify(entry));
        copied.push(contactId);
      });
      if (copied.length > 0) tx.expire(keys.responded, this.ttlSeconds);
      execResults(await tx.exec());
      return { copied, missing };
    });
  }

  /** The customer's responded-to contacts with their texts, newest response first. */
  async responded(customerId: string): Promise<RespondedContact[]> {
    const key = customerKeys(customerId).responded;
    return guard(async () => parseResponded(key, await this.redis.hvals(key)));
  }

  /** The responses recorded for a customer, newest first. */
  async list(customerId: string): Promise<ResponseInput[]> {
    const key = customerKeys(customerId).responses;
    return guard(async () =>
      (await this.redis.hvals(key))
        .map((json) => parseRecord<ResponseInput>(key, json))
        .sort((a, b) => b.respondedAt.localeCompare(a.respondedAt)),
    );
  }
}
