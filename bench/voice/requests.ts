/**
 * The requests the voice benchmarks send (bench/voice, bench/scale): Twilio-shaped `/voice/incoming` forms
 * (the 11 parameters Twilio posts), each with a fresh CallSid, signed with the twilio library as Twilio
 * signs them. Callers are a third each restricted, unrestricted and unknown, over the customers
 * `seed.ts` wrote.
 */
import twilio from 'twilio';

import { customerPhone, unknownPhone } from './seed';

/** A request body and its headers, ready for autocannon. */
export interface PreparedRequest {
  body: string;
  headers: Record<string, string>;
}

/** The seeded population: `restricted` of `customers` are restricted (the first ones). */
export interface CallerMix {
  customers: number;
  restricted: number;
}

/** The caller of request `n`: a third each restricted, unrestricted and unknown. */
export function callerOf(n: number, mix: CallerMix): string {
  switch (n % 3) {
    case 0:
      return customerPhone(n % mix.restricted);
    case 1:
      return customerPhone(mix.restricted + ((n * 7919) % (mix.customers - mix.restricted)));
    default:
      return unknownPhone(n);
  }
}

/** Makes `/voice/incoming` requests, numbering them so every CallSid of a run is new. */
export class IncomingRequests {
  private sequence = 0;
  private readonly runId = Date.now().toString(16);

  /** @param signing the auth token and `PUBLIC_URL` the server checks signatures against. */
  constructor(
    private readonly mix: CallerMix,
    private readonly signing: { authToken: string; publicUrl: string },
  ) {}

  /** The next request to `path`, signed when `signed` (an unsigned one is for the baseline route). */
  next(path: string, signed = true): PreparedRequest {
    this.sequence += 1;
    const params = incomingParams(benchCallSid(this.runId, this.sequence), callerOf(this.sequence, this.mix));
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (signed) headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(this.signing.authToken, `${this.signing.publicUrl}${path}`, params);
    return { body: new URLSearchParams(params).toString(), headers };
  }
}

/** The CallSid of request `n` of the run `runId` (any string of hex digits): new for every request of every run. */
export function benchCallSid(runId: string, n: number): string {
  return `CA${(runId + n.toString(16).padStart(12, '0')).padStart(32, '0').slice(-32)}`;
}

/** The form Twilio posts to `/voice/incoming` for a call from `from` to the landlord's number. */
export function incomingParams(callSid: string, from: string): Record<string, string> {
  return {
    AccountSid: 'AC0123456789abcdef0123456789abcdef',
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallStatus: 'ringing',
    Called: '+441632960000',
    Caller: from,
    Direction: 'inbound',
    From: from,
    FromCountry: 'GB',
    To: '+441632960000',
    ToCountry: 'GB',
  };
}
