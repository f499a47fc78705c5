/**
 * The words of the letters Gatekeeper sends: the acknowledgement of a customer's letter, and the letters of a
 * restriction's life — notification on approval (policy §5–§6), variation, review outcome, lifting, and the
 * outcome of an appeal that leaves the arrangements as they are (an upheld appeal sends the lifting letter, a
 * varied one the variation letter).
 *
 * Pure functions from plain data to `{ title, paragraphs }`, rendered by `channels/letters/letter-pdf.ts` as a
 * printable PDF (standard or large print) or as plain text. Nothing here imports the rest of the project:
 * dates arrive already formatted ("Friday 27 November 2026"), measures already described in plain English,
 * people as names and contact details.
 *
 * Writing rules, from the policy's "fair, open and respectful" and plain-English guidance: short sentences,
 * "we" and "you", say what happens and when, never blame, and every letter says how to report an emergency
 * at any time. Paragraph conventions (`## ` subheading, `• ` bullet) are those of `letter-pdf.ts`.
 */

/** A letter's words, ready for `renderLetterPdf` / `renderLetterText`. */
export interface LetterContent {
  title: string;
  paragraphs: string[];
}

/** Someone a customer can contact, with the details we want them to use. */
export interface ContactPoint {
  name: string;
  /** e.g. "Tenancy Specialist". */
  role?: string;
  phone?: string;
  email?: string;
  address?: string[];
}

/** How to reach the Housing Ombudsman Service. */
export interface OmbudsmanDetails {
  name: string;
  phone: string;
  email: string;
  website: string;
  address?: string[];
}

/** The Housing Ombudsman Service's public contact details (England). */
export const HOUSING_OMBUDSMAN: OmbudsmanDetails = {
  name: 'the Housing Ombudsman Service',
  phone: '0300 111 3000',
  email: 'info@housing-ombudsman.org.uk',
  website: 'www.housing-ombudsman.org.uk',
};

/** Working days a customer has to appeal a restriction, unless configured otherwise (issue 5). */
export const DEFAULT_APPEAL_WORKING_DAYS = 20;

/**
 * What led to a restriction, in plain words, by behaviour category (policy §4). Keyed by the category names
 * of the domain (`excessive-contact`, …), repeated here because config/ imports nothing of the project.
 */
export const BEHAVIOUR_IN_PLAIN_WORDS: Readonly<Record<string, string>> = {
  'excessive-contact':
    'You have been contacting us very often, by phone, email, letter or in person. This has taken up a great deal of our staff’s time, more than we can give while still helping our other customers.',
  'multiple-unsubstantiated':
    'You have contacted us many times about the same matters. We have looked into them and have not found evidence to support them.',
  'abusive-contact':
    'Some of your contact with our staff has been abusive or threatening. We understand that people can feel angry or upset, but our staff must be able to work without being threatened, shouted or sworn at, or insulted.',
  other:
    'The way you have been contacting us has made it very difficult for us to deal with your concerns and to give a fair service to our other customers.',
};

/**
 * The behaviour that led to a restriction in plain words: the category's sentence, then the specifics the
 * tenancy specialist recorded (which must be written for the customer to read).
 */
export function describeBehaviour(category: string, details?: string): string {
  const general = BEHAVIOUR_IN_PLAIN_WORDS[category] ?? BEHAVIOUR_IN_PLAIN_WORDS.other ?? '';
  const specific = details?.trim();
  return specific ? `${general} ${specific}` : general;
}

function contactLines(contact: ContactPoint): string[] {
  const lines: string[] = [];
  if (contact.phone) lines.push(`• By phone: ${contact.phone}`);
  if (contact.email) lines.push(`• By email: ${contact.email}`);
  if (contact.address && contact.address.length > 0) lines.push(`• By post: ${contact.address.join(', ')}`);
  return lines;
}

const named = (contact: ContactPoint): string => (contact.role ? `${contact.name} (${contact.role})` : contact.name);

/** The emergency paragraph every letter carries. */
export function emergencyParagraph(emergencyNumber: string): string {
  return (
    `If you need to report an emergency, call us on ${emergencyNumber} at any time, day or night — the line is always open, ` +
    'and nothing in any arrangement we make with you stops you using it. Emergencies include a gas leak, fire or smoke, ' +
    'flooding or water coming through a ceiling, dangerous electrics, no heating, power or water, a door that will not ' +
    'lock after a break-in, and any risk to someone’s safety. If someone is in immediate danger, call 999.'
  );
}

function emergencySection(emergencyNumber: string): string[] {
  return ['## Emergencies', emergencyParagraph(emergencyNumber)];
}

function accessibleFormats(contact: ContactPoint): string {
  return `If you would like this letter in another format, such as large print, Braille, audio or another language, please contact ${contact.name}.`;
}

function privacySection(privacyNoticeUrl: string): string[] {
  return [
    '## How we use your information',
    `We keep a record of this decision and of your contact with us. Our privacy notice explains how we use and protect your personal information, and your rights: ${privacyNoticeUrl}. If you would like a paper copy, please ask us.`,
  ];
}

function ombudsmanSection(ombudsman: OmbudsmanDetails): string[] {
  const address = ombudsman.address && ombudsman.address.length > 0 ? `, or write to ${ombudsman.address.join(', ')}` : '';
  return [
    '## The Housing Ombudsman',
    `You also have the right to go to ${ombudsman.name}, which is free, independent and deals with complaints about landlords. ` +
      `You can call ${ombudsman.phone}, email ${ombudsman.email} or visit ${ombudsman.website}${address}. ` +
      'The Ombudsman can give you advice at any time.',
  ];
}

/** How and by when to appeal, to whom. */
export interface AppealRoute {
  /** The last day an appeal can be received, formatted, e.g. "Friday 18 December 2026". */
  deadline: string;
  /** Who to write to; at least a postal address or an email address. */
  writeTo: ContactPoint;
}

function appealSection(appeal: AppealRoute, subject: string): string[] {
  const where: string[] = [];
  if (appeal.writeTo.address && appeal.writeTo.address.length > 0) where.push(`• By post: ${[appeal.writeTo.name, ...appeal.writeTo.address].join(', ')}`);
  if (appeal.writeTo.email) where.push(`• By email: ${appeal.writeTo.email}`);
  return [
    '## If you disagree: your right to appeal',
    `You have the right to appeal against ${subject}. Please appeal in writing to ${named(appeal.writeTo)} so that we receive it by ${appeal.deadline}` +
      (where.length > 0 ? `:\n${where.join('\n')}` : '.'),
    'Tell us why you think the decision is wrong, and send anything you would like us to take into account. If writing is difficult for you, tell us and we will help you. A manager who was not involved in the decision will consider your appeal and write to you with the outcome. The arrangements in this letter stay in place while your appeal is considered.',
  ];
}

function measuresList(measures: string[]): string {
  return measures.map((m) => `• ${m}`).join('\n');
}

/**
 * The middle of every letter that sets out arrangements: the customer's needs taken into account (when
 * adjustments are recorded), their contact, and the emergency line — in that order, in every such letter.
 */
function needsContactAndEmergency(input: { adjustments?: string[]; singlePointOfContact: ContactPoint; emergencyNumber: string }): string[] {
  const paragraphs: string[] = [];
  if (input.adjustments && input.adjustments.length > 0) {
    paragraphs.push(`We have taken into account what you have told us about your needs:\n${measuresList(input.adjustments)}`);
  }
  return [...paragraphs, ...contactSection(input.singlePointOfContact), ...emergencySection(input.emergencyNumber)];
}

function contactSection(spoc: ContactPoint): string[] {
  const how = contactLines(spoc);
  return [
    '## Your contact',
    `${named(spoc)} will be your single point of contact and will deal with your enquiries.` +
      (how.length > 0 ? ` You can contact them:\n${how.join('\n')}` : ''),
  ];
}

/* ------------------------------------------------------------------------------------------------------ */
/* (a) Acknowledgement of a customer's letter                                                               */
/* ------------------------------------------------------------------------------------------------------ */

/** What the acknowledgement of a letter must say, as the restriction (if any) requires. */
export interface LetterAcknowledgementInput {
  /** When the letter reached us, formatted. */
  receivedOn: string;
  /** When we will reply, formatted, e.g. "Friday 27 November 2026" (a response-frequency measure sets it). */
  respondBy?: string;
  /** How often we reply under a response-frequency measure, e.g. "once a week, on Fridays". */
  responseSchedule?: string;
  /**
   * The word limit: `words` is the letter's count, absent when it must be counted by hand. `partlyRead` (default
   * false) says the count is not the letter's length — only part of it could be read automatically, or not
   * reliably — so the letter is said to be over the limit without a number.
   */
  wordLimit?: { limit: number; words?: number; exceeded: boolean; partlyRead?: boolean };
  /** The earlier reply this letter repeats (new-issues-only). */
  repeatOf?: { reference: string; respondedOn: string };
  /** The member of staff who deals with the customer's letters. */
  namedContact?: string;
  /** True when the letter was treated as an emergency and passed on at once. */
  emergency?: boolean;
  emergencyNumber: string;
}

/** The acknowledgement of a customer's letter (sent by post). */
export function letterAcknowledgement(input: LetterAcknowledgementInput): LetterContent {
  const paragraphs: string[] = [];
  paragraphs.push(
    `Thank you for your letter, which we received on ${input.receivedOn}.` +
      (input.namedContact ? ` It has been passed to ${input.namedContact}, who deals with your letters.` : ''),
  );
  if (input.emergency) {
    paragraphs.push(
      'Your letter mentions something that may be an emergency, so we have passed it to our emergency team straight away. If the problem is happening now, please also call us on the number below.',
    );
  }
  if (input.responseSchedule && input.respondBy) {
    paragraphs.push(`As we explained when we wrote to you about how we will manage your contact with us, we reply to letters ${input.responseSchedule}. We will reply to this letter by ${input.respondBy}.`);
  } else if (input.respondBy) {
    paragraphs.push(`We will reply to this letter by ${input.respondBy}.`);
  } else {
    paragraphs.push('We will reply to you as soon as we can.');
  }
  const limit = input.wordLimit;
  if (limit) {
    if (limit.exceeded && limit.words !== undefined) {
      // A count of part of a letter is not its length: the customer is told only what we know to be true.
      const length = limit.partlyRead ? `more than ${limit.limit}` : `${limit.words}`;
      paragraphs.push(
        `Your letter is ${length} words long. As we explained when we wrote to you about contacting us, we can deal with letters of up to ${limit.limit} words. ` +
          `We will act on the first ${limit.limit} words of your letter only. If something important was in the rest of your letter, please write to us again, keeping to ${limit.limit} words.`,
      );
    } else {
      paragraphs.push(`Please remember that we will act on the first ${limit.limit} words of each letter only.`);
    }
  }
  if (input.repeatOf) {
    paragraphs.push(
      `We have already replied about the matters in your letter, on ${input.repeatOf.respondedOn} (our reference ${input.repeatOf.reference}). Please refer to that reply. We will not reply again about the same matters, but we will reply to anything new that you raise.`,
    );
  }
  paragraphs.push(emergencyParagraph(input.emergencyNumber));
  return { title: 'We have received your letter', paragraphs };
}

/* ------------------------------------------------------------------------------------------------------ */
/* (b) Restriction notification, on approval                                                                */
/* ------------------------------------------------------------------------------------------------------ */

/** Everything the notification of a restriction must tell the customer (policy §5–§6, issue 5 part 3). */
export interface RestrictionNotificationInput {
  /** What led to the restriction, in plain words (see {@link describeBehaviour}). */
  behaviour: string;
  /** Earlier warnings, each a formatted date ("3 February 2026"), to show the customer had a chance to change. */
  warningsOn?: string[];
  /** Each restriction in plain English, e.g. "You can phone us on Tuesdays and Thursdays between 10am and 12 noon." */
  measures: string[];
  /** From when the arrangements apply, formatted. */
  startsOn: string;
  /** When the decision will be reviewed, formatted. */
  reviewOn: string;
  /** When the arrangements end, formatted, if an end date was set. */
  endsOn?: string;
  singlePointOfContact: ContactPoint;
  /** Reasonable adjustments made for the customer's needs, in plain English. */
  adjustments?: string[];
  emergencyNumber: string;
  appeal: AppealRoute;
  /** The web address of the privacy notice. */
  privacyNoticeUrl: string;
  /** Default {@link HOUSING_OMBUDSMAN}. */
  ombudsman?: OmbudsmanDetails;
}

/** The letter telling a customer that their contact with us is restricted, why, how, until when, and their rights. */
export function restrictionNotification(input: RestrictionNotificationInput): LetterContent {
  const paragraphs: string[] = [
    `We are writing to tell you that we have decided to change the way you can contact us, from ${input.startsOn}. This letter explains why, what the changes are, how long they will last, and what you can do if you disagree.`,
    '## Why we have made this decision',
    input.behaviour,
  ];
  const warnings = input.warningsOn ?? [];
  if (warnings.length > 0) {
    paragraphs.push(
      `We wrote to you about this on ${warnings.join(' and on ')} and asked you to change how you contact us, but it has continued.`,
    );
  }
  paragraphs.push(
    'We have to think about the wellbeing of our staff and about our other customers, who also need our help. We have not made this decision lightly, and we still want to help you with your enquiries.',
    '## What this means for you',
    `From ${input.startsOn}:\n${measuresList(input.measures)}`,
    'This does not change any of the services we provide to you.',
  );
  paragraphs.push(...needsContactAndEmergency(input));
  paragraphs.push(
    '## How long this will last',
    `We will review this decision by ${input.reviewOn} and write to you to tell you the outcome.` +
      (input.endsOn ? ` These arrangements will end on ${input.endsOn}, unless we write to you before then.` : ''),
  );
  paragraphs.push(...appealSection(input.appeal, 'this decision'));
  paragraphs.push(...ombudsmanSection(input.ombudsman ?? HOUSING_OMBUDSMAN));
  paragraphs.push(...privacySection(input.privacyNoticeUrl));
  paragraphs.push(accessibleFormats(input.singlePointOfContact));
  return { title: 'Changes to how you can contact us', paragraphs };
}

/* ------------------------------------------------------------------------------------------------------ */
/* (c) Variation                                                                                            */
/* ------------------------------------------------------------------------------------------------------ */

/** A change to the arrangements of an active restriction. */
export interface RestrictionVariationInput {
  /** Why we are changing them, in plain words. */
  reason: string;
  /** The arrangements from `effectiveOn`, all of them, in plain English. */
  measures: string[];
  effectiveOn: string;
  reviewOn: string;
  endsOn?: string;
  singlePointOfContact: ContactPoint;
  adjustments?: string[];
  emergencyNumber: string;
  /** When the change adds to the restriction, the customer may appeal it. */
  appeal?: AppealRoute;
  privacyNoticeUrl: string;
  ombudsman?: OmbudsmanDetails;
}

/** The letter telling a customer that the arrangements for contacting us have changed. */
export function restrictionVariation(input: RestrictionVariationInput): LetterContent {
  const paragraphs: string[] = [
    `We are writing to tell you that we have changed the arrangements for how you can contact us, from ${input.effectiveOn}.`,
    '## Why we have made this change',
    input.reason,
    '## The arrangements from now on',
    `From ${input.effectiveOn}:\n${measuresList(input.measures)}`,
    'These replace the arrangements in our earlier letters.',
  ];
  paragraphs.push(...needsContactAndEmergency(input));
  paragraphs.push(
    '## How long this will last',
    `We will review these arrangements by ${input.reviewOn} and write to you to tell you the outcome.` +
      (input.endsOn ? ` They will end on ${input.endsOn}, unless we write to you before then.` : ''),
  );
  if (input.appeal) paragraphs.push(...appealSection(input.appeal, 'this change'));
  paragraphs.push(...ombudsmanSection(input.ombudsman ?? HOUSING_OMBUDSMAN));
  paragraphs.push(...privacySection(input.privacyNoticeUrl));
  paragraphs.push(accessibleFormats(input.singlePointOfContact));
  return { title: 'A change to how you can contact us', paragraphs };
}

/* ------------------------------------------------------------------------------------------------------ */
/* (d) Review outcome                                                                                       */
/* ------------------------------------------------------------------------------------------------------ */

/** The outcome of a review of a restriction. */
export interface RestrictionReviewInput {
  outcome: 'continue' | 'vary' | 'lift';
  reviewedOn: string;
  /** What we considered and why we decided as we did, in plain words. */
  reason: string;
  /** The arrangements that apply after the review (continue / vary). */
  measures?: string[];
  /** The next review (continue / vary). */
  nextReviewOn?: string;
  endsOn?: string;
  singlePointOfContact: ContactPoint;
  emergencyNumber: string;
  appeal?: AppealRoute;
  privacyNoticeUrl: string;
  ombudsman?: OmbudsmanDetails;
}

/** The letter telling a customer the outcome of a review of the arrangements for contacting us. */
export function restrictionReviewOutcome(input: RestrictionReviewInput): LetterContent {
  if (input.outcome === 'lift') {
    const lifted = restrictionLifted({
      liftedOn: input.reviewedOn,
      reason: input.reason,
      singlePointOfContact: input.singlePointOfContact,
      emergencyNumber: input.emergencyNumber,
      privacyNoticeUrl: input.privacyNoticeUrl,
    });
    return {
      title: 'The outcome of our review: the arrangements have ended',
      paragraphs: [`We have reviewed the arrangements for how you can contact us, on ${input.reviewedOn}.`, ...lifted.paragraphs],
    };
  }
  const decision =
    input.outcome === 'continue'
      ? 'We have decided that the arrangements need to stay in place for now.'
      : 'We have decided to change the arrangements.';
  const paragraphs: string[] = [
    `We have reviewed the arrangements for how you can contact us, on ${input.reviewedOn}. ${decision}`,
    '## Why',
    input.reason,
  ];
  if (input.measures && input.measures.length > 0) {
    paragraphs.push('## The arrangements from now on', measuresList(input.measures));
  }
  paragraphs.push(...contactSection(input.singlePointOfContact));
  paragraphs.push(...emergencySection(input.emergencyNumber));
  if (input.nextReviewOn) {
    paragraphs.push(
      '## What happens next',
      `We will review them again by ${input.nextReviewOn} and write to you then.` +
        (input.endsOn ? ` They will end on ${input.endsOn}, unless we write to you before then.` : ''),
    );
  }
  if (input.appeal) paragraphs.push(...appealSection(input.appeal, 'this decision'));
  paragraphs.push(...ombudsmanSection(input.ombudsman ?? HOUSING_OMBUDSMAN));
  paragraphs.push(...privacySection(input.privacyNoticeUrl));
  paragraphs.push(accessibleFormats(input.singlePointOfContact));
  return { title: 'The outcome of our review of how you can contact us', paragraphs };
}

/* ------------------------------------------------------------------------------------------------------ */
/* (e) Appeal outcome: dismissed                                                                            */
/* ------------------------------------------------------------------------------------------------------ */

/** The outcome of an appeal that leaves the arrangements as they are (policy §6; §2 "keeping them informed"). */
export interface RestrictionAppealDismissedInput {
  /** When we received the appeal, formatted; left out when not known. */
  receivedOn?: string;
  /** When the appeal was decided, formatted. */
  decidedOn: string;
  /**
   * Why, in plain words: the reasons the deciding manager recorded for the outcome, which are for the customer
   * to read (policy §3: "sharing the reasons for this with the customer").
   */
  reason: string;
  /** The arrangements, which have not changed, in plain English. */
  measures: string[];
  reviewOn: string;
  endsOn?: string;
  singlePointOfContact: ContactPoint;
  adjustments?: string[];
  /** Where to write to make a complaint: a postal address, an email address or both. */
  complaintsTo: ContactPoint;
  emergencyNumber: string;
  privacyNoticeUrl: string;
  /** Default {@link HOUSING_OMBUDSMAN}. */
  ombudsman?: OmbudsmanDetails;
}

/**
 * The letter telling a customer that their appeal has been considered and the arrangements stay as they are:
 * who considered it, why, the arrangements restated, the next review, emergencies, and where to go next (our
 * complaints procedure, then the Housing Ombudsman). It offers no further appeal against the same decision.
 */
export function restrictionAppealDismissed(input: RestrictionAppealDismissedInput): LetterContent {
  const asked = 'You asked us to look again at our decision about how you can contact us.';
  const paragraphs: string[] = [
    `${input.receivedOn ? `We received your appeal on ${input.receivedOn}. ` : ''}${asked} This letter tells you the outcome.`,
    '## Our decision',
    'A manager who was not involved in the original decision has considered your appeal. They looked at what you told us in your appeal and at our records of your contact with us. ' +
      `On ${input.decidedOn} they decided that the arrangements should stay as they are. This means your appeal has not been successful, and the way you can contact us has not changed.`,
  ];
  const reason = input.reason.trim();
  if (reason) paragraphs.push('## Why we made this decision', reason);
  paragraphs.push(
    '## The arrangements, which stay in place',
    measuresList(input.measures),
    'These are the same arrangements as in our earlier letters.',
  );
  paragraphs.push(...needsContactAndEmergency(input));
  paragraphs.push(
    '## What happens next',
    `We will review these arrangements by ${input.reviewOn} and write to you to tell you the outcome.` +
      (input.endsOn ? ` They will end on ${input.endsOn}, unless we write to you before then.` : '') +
      ` If your circumstances change, or there is something new you would like us to take into account, please tell ${input.singlePointOfContact.name}.`,
  );
  const how = contactLines(input.complaintsTo);
  paragraphs.push(
    '## If you are still unhappy',
    'This is the end of our appeal process for this decision. If you are unhappy with how we have dealt with your appeal, you can make a complaint through our complaints procedure. ' +
      'Please write to us and say that you are making a complaint' +
      (how.length > 0 ? `:\n${how.join('\n')}` : '.'),
    'If writing is difficult for you, tell us and we will help you.',
  );
  paragraphs.push(...ombudsmanSection(input.ombudsman ?? HOUSING_OMBUDSMAN));
  paragraphs.push(...privacySection(input.privacyNoticeUrl));
  paragraphs.push(accessibleFormats(input.singlePointOfContact));
  return { title: 'The outcome of your appeal', paragraphs };
}

/* ------------------------------------------------------------------------------------------------------ */
/* (f) Lifting                                                                                              */
/* ------------------------------------------------------------------------------------------------------ */

/** The end of a restriction. */
export interface RestrictionLiftedInput {
  liftedOn: string;
  /** Why, in plain words; optional (e.g. it simply reached its end date). */
  reason?: string;
  singlePointOfContact?: ContactPoint;
  emergencyNumber: string;
  privacyNoticeUrl: string;
}

/** The letter telling a customer that the arrangements have ended and they can contact us as anyone can. */
export function restrictionLifted(input: RestrictionLiftedInput): LetterContent {
  const paragraphs: string[] = [
    `We are writing to tell you that the arrangements we made for how you can contact us ended on ${input.liftedOn}.`,
  ];
  if (input.reason?.trim()) paragraphs.push(input.reason.trim());
  paragraphs.push(
    'From now on you can contact us in any of the usual ways — by phone, email, letter or in person — like any other customer.',
    'Thank you for working with us. We will continue to treat you fairly and with respect, and we ask the same for our staff.',
    emergencyParagraph(input.emergencyNumber),
    ...privacySection(input.privacyNoticeUrl),
  );
  if (input.singlePointOfContact) paragraphs.push(accessibleFormats(input.singlePointOfContact));
  return { title: 'The arrangements for contacting us have ended', paragraphs };
}
