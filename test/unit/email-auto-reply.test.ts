/** RFC 3834: when an acknowledgement may be sent, and when it must not. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { shouldAcknowledge, type AckSkipReason } from '../../channels/email/auto-reply';
import { parseEmail } from '../../channels/email/parse';
import { buildMessage, readFixture } from '../fixtures/mail/builders';

const OURS = ['landlord.example'];
const customer = 'pat@customer.example';

describe('shouldAcknowledge', () => {
  it('acknowledges an ordinary message from a person', () => {
    expect(shouldAcknowledge({}, customer, OURS)).toEqual({ acknowledge: true });
    expect(shouldAcknowledge({ 'auto-submitted': 'no' }, customer, OURS)).toEqual({ acknowledge: true });
    expect(shouldAcknowledge({ 'auto-submitted': 'No (sent by a person)' }, customer, OURS)).toEqual({ acknowledge: true });
    expect(shouldAcknowledge({ precedence: 'first-class' }, customer, OURS)).toEqual({ acknowledge: true });
    expect(shouldAcknowledge({ 'return-path': '<pat@customer.example>' }, customer, OURS)).toEqual({ acknowledge: true });
    // Suppression values that concern other kinds of automatic mail do not silence us.
    expect(shouldAcknowledge({ 'x-auto-response-suppress': 'DR, RN, NRN' }, customer, OURS)).toEqual({ acknowledge: true });
  });

  // Every row has all five cells: jest takes a test function with more parameters than cells for a `done` callback.
  const refusals: Array<[string, Record<string, string>, string | undefined, AckSkipReason, string]> = [
    ['Auto-Submitted: auto-replied', { 'auto-submitted': 'auto-replied' }, customer, 'auto-submitted', ''],
    ['Auto-Submitted: auto-generated', { 'auto-submitted': 'auto-generated' }, customer, 'auto-submitted', ''],
    ['Auto-Submitted: auto-notified', { 'auto-submitted': 'auto-notified; owner-email="x@y"' }, customer, 'auto-submitted', ''],
    ['Precedence: bulk', { precedence: 'bulk' }, customer, 'precedence', ''],
    ['Precedence: list', { precedence: 'List' }, customer, 'precedence', ''],
    ['Precedence: junk', { precedence: 'junk' }, customer, 'precedence', ''],
    ['List-Id', { 'list-id': '<tenants.lists.example>' }, customer, 'mailing-list', ''],
    ['List-Unsubscribe', { 'list-unsubscribe': '<mailto:u@lists.example>' }, customer, 'mailing-list', ''],
    ['multipart/report', { 'content-type': 'multipart/report' }, customer, 'delivery-report', ''],
    ['null return path (envelope)', { 'return-path': '' }, customer, 'null-return-path', ''],
    ['null return path (header)', { 'return-path': '<>' }, customer, 'null-return-path', ''],
    ['MAILER-DAEMON', {}, 'mailer-daemon@mx.example', 'system-sender', ''],
    ['postmaster', {}, 'postmaster@customer.example', 'system-sender', ''],
    ['a bounce address as return path', { 'return-path': '<bounces+123@esp.example>' }, customer, 'system-sender', ''],
    ['our own domain', {}, 'housing@landlord.example', 'own-mail', ''],
    ['our loop header', { 'x-gatekeeper-loop': 'landlord.example' }, customer, 'our-loop', ''],
    ['X-Autoreply', { 'x-autoreply': 'yes' }, customer, 'auto-reply-header', ''],
    ['an out-of-office subject', {}, customer, 'auto-reply-header', 'Automatic reply: your message'],
    ['X-Auto-Response-Suppress: All', { 'x-auto-response-suppress': 'All' }, customer, 'auto-response-suppressed', ''],
    ['X-Auto-Response-Suppress: OOF, AutoReply', { 'x-auto-response-suppress': 'OOF, AutoReply' }, customer, 'auto-response-suppressed', ''],
    ['no sender', {}, undefined, 'no-sender', ''],
  ];
  it.each(refusals)('does not acknowledge: %s', (_name, headers, from, reason, subject) => {
    expect(shouldAcknowledge(headers, from, OURS, subject)).toEqual({ acknowledge: false, reason });
  });
});

describe('shouldAcknowledge over parsed fixtures', () => {
  async function verdict(name: string) {
    const parsed = await parseEmail(Readable.from([readFixture(name)]));
    return shouldAcknowledge(parsed.replyHeaders, parsed.from?.address, OURS, parsed.subject);
  }
  it('refuses the bounce and the out-of-office reply, acknowledges the Outlook reply', async () => {
    expect(await verdict('bounce.eml')).toMatchObject({ acknowledge: false });
    expect(await verdict('out-of-office.eml')).toMatchObject({ acknowledge: false, reason: 'auto-submitted' });
    expect(await verdict('outlook-html-reply.eml')).toEqual({ acknowledge: true });
    expect(readFileSync(join(__dirname, '../fixtures/mail/bounce.eml'), 'latin1')).toContain('multipart/report');
  });
});

// Through the real parser: mailparser merges every List-* field into one `list` header object, so a
// test that hands shouldAcknowledge a ready-made `{ 'list-id': … }` cannot see whether parsing finds them.
describe('shouldAcknowledge over parsed mailing-list mail (RFC 2369, RFC 2919)', () => {
  const lists: Array<[string, Record<string, string>]> = [
    ['List-Id', { 'List-Id': '<list.example.com>' }],
    ['List-Id with a description', { 'List-Id': 'Tenants forum <tenants.list.example.com>' }],
    ['List-Unsubscribe (mailto)', { 'List-Unsubscribe': '<mailto:leave@list.example.com>' }],
    ['List-Unsubscribe (https and mailto, folded)', { 'List-Unsubscribe': '<https://list.example.com/u?id=1>,\r\n <mailto:leave@list.example.com>' }],
    ['List-Id and List-Post', { 'List-Id': '<list.example.com>', 'List-Post': '<mailto:list@list.example.com>' }],
    ['List-Post: NO (an announcement list)', { 'List-Post': 'NO' }],
    ['List-Help', { 'List-Help': '<https://list.example.com/help>' }],
    ['List-Subscribe', { 'List-Subscribe': '<mailto:join@list.example.com?subject=subscribe>' }],
    ['List-Owner', { 'List-Owner': '<mailto:owner@list.example.com> (Pat Owner)' }],
    ['List-Archive', { 'List-Archive': '<https://list.example.com/archive/>' }],
    ['an empty List-Archive', { 'List-Archive': '' }],
    ['a lower-case list-id', { 'list-id': '<list.example.com>' }],
  ];
  it.each(lists)('does not acknowledge a known sender’s message carrying %s', async (_name, headers) => {
    const raw = buildMessage({ from: `Pat Tenant <${customer}>`, subject: 'Forum digest', text: 'Hello all.', headers });
    const parsed = await parseEmail(Readable.from([raw]));
    expect(shouldAcknowledge(parsed.replyHeaders, parsed.from?.address, OURS, parsed.subject)).toEqual({ acknowledge: false, reason: 'mailing-list' });
  });

  it('still acknowledges the same message without list headers (or with a look-alike header)', async () => {
    const raw = buildMessage({ from: `Pat Tenant <${customer}>`, subject: 'Forum digest', text: 'Hello all.', headers: { 'X-List-Name': 'not a list header' } });
    const parsed = await parseEmail(Readable.from([raw]));
    expect(shouldAcknowledge(parsed.replyHeaders, parsed.from?.address, OURS, parsed.subject)).toEqual({ acknowledge: true });
  });
});
