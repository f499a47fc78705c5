/*
 * Gatekeeper console: the agent's screen-pops and customer card, and the caseworkers' screens.
 *
 * Plain browser JavaScript, no dependencies, no build step. Rules this file keeps:
 * - Every string that came from a customer or the API is put in the page as TEXT (textContent, text nodes,
 *   setAttribute on harmless attributes). Nothing here assigns HTML: a name such as
 *   `<img src=x onerror=alert(1)>` is shown exactly as typed.
 * - It runs under `Content-Security-Policy: default-src 'self'`: no inline script or style, no eval.
 * - The staff token lives in sessionStorage (this tab only) and travels in the Authorization header —
 *   never in a URL, so it cannot leak through history, logs or the Referer header.
 * - Screen-pops come from GET /v1/events read with fetch() (EventSource cannot send the header), with a
 *   watchdog and exponential backoff so a dropped stream comes back by itself.
 */
/* global document, window, sessionStorage, fetch, AbortController, TextDecoder, URLSearchParams, Blob, URL, setTimeout, clearTimeout, crypto */

'use strict';

const TOKEN_KEY = 'gatekeeper.console.token';
/** A stream that has said nothing for this long is presumed dead (the server sends a heartbeat every 15 s). */
const STREAM_SILENCE_MS = 45_000;
const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
const MAX_POPS = 8;
/** Policy: a review at most six months ahead (REVIEW_MAX_MONTHS); the API checks it again. */
const REVIEW_MAX_MONTHS = 6;

const ANY_STAFF = ['agent', 'staff', 'manager', 'tenancy-specialist', 'ts-manager'];
const CASEWORKERS = ['tenancy-specialist', 'ts-manager', 'manager'];

const state = {
  token: null,
  /** `{ id, name, roles, timeZone, now }` from /console/me. */
  me: null,
  stream: null,
  /** Map of staff id → staff, when this person may list staff (caseworkers). */
  staff: null,
  pops: [],
  /** Server clock minus this browser's clock, from /console/me: dates are judged by the server's time. */
  clockOffsetMs: 0,
};

/** Now, by the server's clock (an agent's PC may be minutes or days out). */
function now() {
  return Date.now() + state.clockOffsetMs;
}

/* ------------------------------------------------------------------------------------------------------
 * DOM helpers: the only way this file builds markup. Strings become text nodes; attributes are set one by
 * one with setAttribute; event handlers are functions, never strings.
 * ---------------------------------------------------------------------------------------------------- */

function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return parent;
}

/** Builds an element: `h('a', { href: '#/x', class: 'link' }, 'text', child)`. */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'hidden') el.hidden = true;
    else if (key === 'value') el.value = String(value);
    else if (key === 'checked') el.checked = true;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  return append(el, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'text') el.textContent = String(value);
    else el.setAttribute(key, String(value));
  }
  return append(el, children);
}

function clear(el) {
  el.replaceChildren();
  return el;
}

const $ = (id) => document.getElementById(id);

function hasRole(...roles) {
  return Boolean(state.me && state.me.roles.some((r) => roles.includes(r)));
}

/* ------------------------------------------------------------------------------------------------------
 * Dates and times, always in the organisation's zone (not the browser's).
 * ---------------------------------------------------------------------------------------------------- */

function zone() {
  return (state.me && state.me.timeZone) || 'Europe/London';
}

function formatWith(options, iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone(), ...options }).format(d);
}

function formatDateTime(iso) {
  return formatWith({ weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }, iso);
}

function formatDate(iso) {
  return formatWith({ weekday: 'short', day: 'numeric', month: 'long', year: 'numeric' }, iso);
}

function formatTime(iso) {
  return formatWith({ hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }, iso);
}

/** The zone's wall clock at an instant, as numbers. */
function wallClock(instant) {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone(),
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    weekday: 'short',
  }).formatToParts(new Date(instant));
  const get = (type) => (parts.find((p) => p.type === type) || { value: '0' }).value;
  return { year: Number(get('year')), month: Number(get('month')), day: Number(get('day')), hour: Number(get('hour')), minute: Number(get('minute')), second: Number(get('second')), weekday: get('weekday') };
}

/** Today's date in the zone, `YYYY-MM-DD`. */
function todayLocal(instant = now()) {
  const c = wallClock(instant);
  return `${c.year}-${String(c.month).padStart(2, '0')}-${String(c.day).padStart(2, '0')}`;
}

/** `YYYY-MM-DD` + `HH:mm` in the zone → ISO instant (two passes settle the offset across clock changes). */
function localToIso(date, time = '00:00') {
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const wanted = Date.UTC(y, m - 1, d, hh, mm);
  const offsetAt = (instant) => {
    const c = wallClock(instant);
    return Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second) - Math.floor(instant / 1000) * 1000;
  };
  let t = wanted - offsetAt(wanted);
  t = wanted - offsetAt(t);
  return new Date(t).toISOString();
}

/** Adds calendar months as the API does (UTC month arithmetic). */
function addMonths(date, months) {
  const r = new Date(date.getTime());
  r.setUTCMonth(r.getUTCMonth() + months);
  return r;
}

/** The previous month, `YYYY-MM`. */
function previousMonth() {
  const c = wallClock(now());
  const month = c.month === 1 ? 12 : c.month - 1;
  const year = c.month === 1 ? c.year - 1 : c.year;
  return `${year}-${String(month).padStart(2, '0')}`;
}

/* ------------------------------------------------------------------------------------------------------
 * Vocabulary: plain English for codes. Mirrors rules/ where the API's checks are repeated here.
 * ---------------------------------------------------------------------------------------------------- */

const CATEGORY_LABELS = {
  'excessive-contact': 'Excessive contact',
  'multiple-unsubstantiated': 'Multiple unsubstantiated complaints',
  'abusive-contact': 'Abusive or threatening contact',
  other: 'Other unacceptable behaviour',
};

const STATUS_LABELS = {
  requested: 'Requested — waiting for a decision',
  'pending-approval': 'Decided — waiting for approval',
  active: 'Active',
  lifted: 'Lifted',
  expired: 'Expired',
  rejected: 'Rejected',
};

const CHANNEL_NOUNS = { voice: 'calls', email: 'email', letter: 'letters', visit: 'visits' };
const CHANNEL_TITLES = { voice: 'Call', email: 'Email', letter: 'Letter', visit: 'Visit' };

const REASON_LABELS = {
  'no-restriction': 'No restriction',
  unidentified: 'Caller not identified',
  'ambiguous-identity': 'This number or address belongs to more than one customer — check who you are speaking to',
  'outside-call-times': 'Outside the agreed call times',
  'bank-holiday': 'Bank holiday — call times are closed',
  'written-only': 'Written contact only',
  'named-contact': 'For the named contact',
  'appointment-required': 'Appointment needed',
  'word-limit-exceeded': 'Over the word limit',
  'response-frequency': 'Answered on the agreed schedule',
  'repeat-issue': 'Repeats an issue already answered',
  emergency: 'EMERGENCY',
  'restriction-check-unavailable': 'Restriction check unavailable — treat with care and check the customer record',
};

const OUTCOME_LABELS = {
  proceed: 'Put through',
  deflect: 'Not put through — told when and how to get in touch',
  emergency: 'EMERGENCY — put through at once',
};

const NEED_LABELS = {
  'cannot-use-phone': 'cannot use the phone',
  'hearing-impairment': 'has a hearing impairment',
  bsl: 'uses British Sign Language',
  'cannot-write': 'cannot write',
  'literacy-support': 'needs support with reading and writing',
  'visual-impairment': 'has a visual impairment',
  advocate: 'has an advocate',
};

function needLabel(need) {
  if (need.startsWith('interpreter:')) return `needs an interpreter (${need.slice('interpreter:'.length)})`;
  return NEED_LABELS[need] || need;
}

function capitalise(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** rules/validation.ts CHANNELS_UNUSABLE_BY_NEED. */
const UNUSABLE_BY_NEED = {
  'cannot-use-phone': ['voice'],
  'hearing-impairment': ['voice'],
  bsl: ['voice'],
  'cannot-write': ['letter', 'email'],
  'literacy-support': ['letter', 'email'],
  'visual-impairment': ['letter'],
};
const CHANNELS = ['voice', 'email', 'letter', 'visit'];
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const WEEKDAY_SHORT = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };
const WEEKDAY_PLURAL = { mon: 'Mondays', tue: 'Tuesdays', wed: 'Wednesdays', thu: 'Thursdays', fri: 'Fridays', sat: 'Saturdays', sun: 'Sundays' };

/** rules/validation.ts usableChannels. */
function usableChannels(measures, needs, adjustments) {
  const adjusted = new Set((adjustments || []).map((a) => a.need));
  const blocked = new Set();
  for (const need of needs) {
    if (adjusted.has(need)) continue;
    for (const ch of UNUSABLE_BY_NEED[need] || []) blocked.add(ch);
  }
  let allowed = [...CHANNELS];
  for (const m of measures) {
    if (m.type === 'written-only') {
      const written = m.channels && m.channels.length > 0 ? m.channels : ['letter', 'email'];
      allowed = allowed.filter((ch) => written.includes(ch));
    }
  }
  return allowed.filter((ch) => !blocked.has(ch));
}

function listWords(items) {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** `no-usable-channel`, explained in terms of the customer's needs. */
function noChannelExplanation(measures, needs, adjustments, name) {
  const open = usableChannels(measures, [], adjustments);
  const adjusted = new Set((adjustments || []).map((a) => a.need));
  const blocking = needs.filter((n) => !adjusted.has(n) && (UNUSABLE_BY_NEED[n] || []).some((ch) => open.includes(ch)));
  const who = name || 'The customer';
  const inOrder = (channels) => CHANNELS.filter((ch) => channels.includes(ch));
  const because = blocking.map((n) => `${needLabel(n)}, which rules out ${listWords(inOrder(UNUSABLE_BY_NEED[n] || []).map((ch) => CHANNEL_NOUNS[ch]))}`);
  const written = measures.some((m) => m.type === 'written-only') ? ' Written only already removes calls and visits.' : '';
  return (
    `These measures leave ${who} no way to contact us. They keep ${listWords(open.map((ch) => CHANNEL_NOUNS[ch])) || 'no channel'} open, ` +
    `but ${who} ${because.join('; and ') || 'has needs that rule those out'}.${written} ` +
    'Keep another channel open, or record a reasonable adjustment for one of these needs below.'
  );
}

function staffName(id) {
  const s = state.staff && state.staff.get(id);
  return s ? s.name : id;
}

function describeWindow(w) {
  return `${w.days.map((d) => WEEKDAY_SHORT[d] || d).join(' & ')} ${w.start}–${w.end}`;
}

function describeFrequency(every) {
  const m = /^P(\d+)([DW])$/.exec(every || '');
  if (!m) return `every ${every}`;
  const days = Number(m[1]) * (m[2] === 'W' ? 7 : 1);
  if (days === 1) return 'daily';
  if (days === 7) return 'weekly';
  if (days === 14) return 'fortnightly';
  return `every ${days} days`;
}

/** One measure in plain English (the card's server flags say the same, with the next window). */
function describeMeasure(m) {
  switch (m.type) {
    case 'call-times':
      return `Calls ${m.windows.map(describeWindow).join(', ')} only${(m.bankHolidays || 'closed') === 'closed' ? ', not on bank holidays' : ''}`;
    case 'named-contact':
      return `Named contact: ${staffName(m.staffId)}${m.deputyId ? ` (deputy: ${staffName(m.deputyId)})` : ''}`;
    case 'appointments-only':
      return `Visits by appointment only, with ${staffName(m.staffId)}`;
    case 'written-only':
      return `Written contact only, by ${listWords((m.channels && m.channels.length ? m.channels : ['letter', 'email']).map((c) => CHANNEL_NOUNS[c]))} — no calls or visits`;
    case 'word-limit':
      return `Word limit: ${m.maxWords} words per letter or email`;
    case 'response-frequency':
      return `Responses ${describeFrequency(m.every)}${m.weekday ? ` on ${WEEKDAY_PLURAL[m.weekday]}` : ''}`;
    case 'new-issues-only':
      return 'New issues only: repeated matters are referred to the previous response';
    case 'other':
      return m.description;
    default:
      return m.type;
  }
}

/** The next date on `weekday` (today counts), for "next response" on a fixed weekday. */
function nextWeekday(weekday) {
  const index = WEEKDAYS.indexOf(weekday);
  for (let i = 0; i < 7; i += 1) {
    const t = now() + i * 86_400_000;
    const w = WEEKDAYS.indexOf(wallClock(t).weekday.toLowerCase().slice(0, 3));
    if (w === index) return new Date(t).toISOString();
  }
  return undefined;
}

/* ------------------------------------------------------------------------------------------------------
 * API client.
 * ---------------------------------------------------------------------------------------------------- */

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

async function api(path, options = {}) {
  const { method = 'GET', body, accept = 'application/json', idempotencyKey } = options;
  const headers = { Accept: accept, Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (idempotencyKey !== undefined) headers['Idempotency-Key'] = idempotencyKey;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiError(0, 'network', 'Gatekeeper could not be reached. Check your connection and try again.');
  }
  if (res.status === 401 && path !== '/console/me') {
    signOut('Your session has ended. Sign in again.');
    throw new ApiError(401, 'unauthenticated', 'Your session has ended. Sign in again.');
  }
  if (!res.ok) {
    let error = {};
    try {
      error = (await res.json()).error || {};
    } catch {
      // Not JSON: keep the status text.
    }
    throw new ApiError(res.status, error.code || `http-${res.status}`, error.message || res.statusText || 'The request failed');
  }
  if (res.status === 204) return null;
  return accept === 'text/csv' ? res.text() : res.json();
}

const enc = encodeURIComponent;

/** 128 random bits as hex: an Idempotency-Key (getRandomValues, unlike randomUUID, works outside HTTPS too). */
function randomKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/* ------------------------------------------------------------------------------------------------------
 * Signing in and out.
 * ---------------------------------------------------------------------------------------------------- */

async function signIn(token) {
  state.token = token;
  const me = await api('/console/me');
  state.me = me;
  const serverNow = Date.parse(me.now);
  state.clockOffsetMs = Number.isNaN(serverNow) ? 0 : serverNow - Date.now();
  sessionStorage.setItem(TOKEN_KEY, token);
  if (hasRole(...CASEWORKERS)) {
    try {
      const list = await api('/v1/staff');
      state.staff = new Map(list.map((s) => [s.id, s]));
      const datalist = h('datalist', { id: 'staff-datalist' }, list.map((s) => h('option', { value: s.id }, `${s.name} (${s.roles.join(', ')})`)));
      const old = $('staff-datalist');
      if (old) old.remove();
      document.body.append(datalist);
    } catch {
      state.staff = null;
    }
  }
  showSignedIn();
}

function signOut(message) {
  if (state.stream) state.stream.stop();
  state.stream = null;
  state.token = null;
  state.me = null;
  state.staff = null;
  state.pops = [];
  sessionStorage.removeItem(TOKEN_KEY);
  $('session').hidden = true;
  $('nav').hidden = true;
  $('pops').hidden = true;
  clear($('pop-list'));
  clear($('view'));
  $('signin-view').hidden = false;
  document.title = 'Sign in — Gatekeeper console';
  const error = $('signin-error');
  if (message) {
    showErrorSummary(error, [{ message }]);
  } else {
    error.hidden = true;
  }
  $('signin-token').value = '';
  $('signin-token').focus();
}

function showSignedIn() {
  $('signin-view').hidden = true;
  $('session').hidden = false;
  $('whoami').textContent = `Signed in as ${state.me.name} (${state.me.roles.join(', ')})`;
  buildNav();
  $('nav').hidden = false;
  $('pops').hidden = false;
  renderPops();
  state.stream = new EventStream(onScreenPop, setStreamStatus);
  state.stream.start();
  route();
}

function buildNav() {
  const items = [['#/', 'Find a customer', true]];
  if (hasRole(...ANY_STAFF)) items.push(['#/request', 'New request', true]);
  if (hasRole(...CASEWORKERS)) items.push(['#/cases', 'Cases and reviews', true]);
  if (hasRole('ts-manager')) items.push(['#/report', 'Monthly report', true]);
  clear($('nav-list'));
  for (const [href, label] of items) $('nav-list').append(h('li', {}, h('a', { href }, label)));
}

function markNav(hash) {
  for (const a of $('nav-list').querySelectorAll('a')) {
    const href = a.getAttribute('href');
    const current = href === '#/' ? hash === '#/' || hash.startsWith('#/customer') : hash.startsWith(href);
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/* ------------------------------------------------------------------------------------------------------
 * The event stream: fetch() + a stream reader, a silence watchdog, and exponential backoff with jitter.
 * ---------------------------------------------------------------------------------------------------- */

class EventStream {
  constructor(onPop, onStatus) {
    this.onPop = onPop;
    this.onStatus = onStatus;
    this.attempt = 0;
    this.stopped = true;
    this.abort = null;
    this.retryTimer = null;
    this.silenceTimer = null;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.silenceTimer);
    if (this.abort) this.abort.abort();
  }

  heard() {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => {
      if (this.abort) this.abort.abort();
    }, STREAM_SILENCE_MS);
  }

  async connect() {
    if (this.stopped) return;
    this.abort = new AbortController();
    this.onStatus('connecting');
    let res;
    try {
      res = await fetch('/v1/events', {
        headers: { Accept: 'text/event-stream', Authorization: `Bearer ${state.token}` },
        cache: 'no-store',
        credentials: 'omit',
        signal: this.abort.signal,
      });
    } catch {
      this.retry();
      return;
    }
    if (res.status === 401) {
      signOut('Your session has ended. Sign in again.');
      return;
    }
    if (!res.ok || !res.body) {
      this.retry();
      return;
    }
    this.attempt = 0;
    this.onStatus('live');
    this.heard();
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.heard();
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.frame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // Aborted (silence, sign-out) or the network dropped: either way, reconnect unless stopped.
    }
    clearTimeout(this.silenceTimer);
    this.retry();
  }

  frame(text) {
    let event = 'message';
    const data = [];
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (event !== 'screen-pop' || data.length === 0) return;
    try {
      this.onPop(JSON.parse(data.join('\n')));
    } catch {
      // A malformed event is dropped; the next one may be fine.
    }
  }

  retry() {
    if (this.stopped) return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    // Jitter spreads reconnects after an outage so consoles do not stampede the gateway together.
    const delay = Math.round(base / 2 + (Math.random() * base) / 2);
    this.attempt += 1;
    this.onStatus('reconnecting', delay);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}

function setStreamStatus(status, delay) {
  const el = $('stream-status');
  if (!el) return;
  el.className = status === 'live' ? 'session__stream stream--live' : 'session__stream stream--down';
  el.dataset.state = status;
  if (status === 'live') el.textContent = 'Live: new contacts appear below';
  else if (status === 'connecting') el.textContent = 'Connecting to live updates…';
  else el.textContent = `Live updates interrupted — reconnecting in ${Math.max(1, Math.round(delay / 1000))} s`;
}

/* ------------------------------------------------------------------------------------------------------
 * Screen-pops.
 * ---------------------------------------------------------------------------------------------------- */

function onScreenPop(event) {
  if (!event || event.type !== 'screen-pop') return;
  const pop = { event, name: undefined, key: `${event.contactId}|${event.at}` };
  if (state.pops.some((p) => p.key === pop.key)) return;
  state.pops.unshift(pop);
  state.pops = state.pops.slice(0, MAX_POPS);
  renderPops();
  let announced = false;
  const announce = () => {
    if (announced) return;
    announced = true;
    announcePop(pop);
  };
  // Announce with the name when it comes quickly; never hold the announcement back by more than 700 ms.
  const fallback = setTimeout(announce, 700);
  if (event.customerId) {
    api(`/v1/customers/${enc(event.customerId)}/flags`)
      .then((flags) => {
        pop.name = flags.name;
        renderPops();
      })
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(fallback);
        announce();
      });
  } else {
    clearTimeout(fallback);
    announce();
  }
}

function popTitle(pop) {
  const e = pop.event;
  const channel = CHANNEL_TITLES[e.channel] || 'Contact';
  const who = pop.name || (e.customerId ? `customer ${e.customerId}` : 'an unidentified caller');
  return `${e.outcome === 'emergency' ? 'EMERGENCY — ' : ''}${channel} from ${who}`;
}

function announcePop(pop) {
  const e = pop.event;
  const parts = [popTitle(pop), e.restrictionId ? 'Restricted customer.' : '', ...(e.agentFlags || [])];
  const announcer = $('pop-announcer');
  // Emptying first makes screen readers announce a second pop with the same text too.
  announcer.textContent = '';
  setTimeout(() => {
    announcer.textContent = parts.filter(Boolean).join('. ');
  }, 50);
}

function renderPops() {
  const list = clear($('pop-list'));
  $('pops-empty').hidden = state.pops.length > 0;
  for (const pop of state.pops) {
    const e = pop.event;
    const kind = e.outcome === 'emergency' ? 'pop pop--emergency' : e.restrictionId ? 'pop pop--restricted' : 'pop';
    const reasons = (e.reasons || []).map((r) => REASON_LABELS[r] || r);
    list.append(
      h(
        'li',
        { class: kind, 'data-contact-id': e.contactId },
        h('h3', { class: 'pop__title' }, popTitle(pop)),
        h(
          'p',
          { class: 'pop__meta' },
          `${formatTime(e.at)}`,
          e.customerId ? ` · Customer ${e.customerId}` : '',
          e.restrictionId ? ' · Restricted' : '',
        ),
        h('p', {}, h('strong', {}, OUTCOME_LABELS[e.outcome] || e.outcome), reasons.length ? ` — ${reasons.join('; ')}` : ''),
        e.agentFlags && e.agentFlags.length ? h('ul', { class: 'flags' }, e.agentFlags.map((f) => h('li', {}, f))) : null,
        h(
          'div',
          { class: 'actions' },
          e.customerId ? h('a', { class: 'button button--small', href: `#/customer/${enc(e.customerId)}` }, 'Open customer record') : null,
          h(
            'button',
            {
              type: 'button',
              class: 'button button--secondary button--small',
              onclick: () => {
                state.pops = state.pops.filter((p) => p !== pop);
                renderPops();
                $('pops-heading').setAttribute('tabindex', '-1');
                $('pops-heading').focus();
              },
            },
            'Dismiss',
            h('span', { class: 'visually-hidden' }, ` ${popTitle(pop)}`),
          ),
        ),
      ),
    );
  }
}

/* ------------------------------------------------------------------------------------------------------
 * Forms: fields with hints and inline errors, and the error summary (focused on a failed submit).
 * ---------------------------------------------------------------------------------------------------- */

/** A labelled control. `control` must carry the `id`. */
function field(label, control, options = {}) {
  const id = control.id;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [options.hint ? hintId : '', errorId].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describedBy);
  return h(
    'div',
    { class: 'field', id: `${id}-field` },
    h('label', { class: 'field__label', for: id }, label),
    options.hint ? h('span', { class: 'field__hint', id: hintId }, options.hint) : null,
    h('span', { class: 'field__error', id: errorId, hidden: true }),
    control,
  );
}

/** A fieldset of checkboxes or radios. */
function choices(legend, name, type, items, options = {}) {
  const groupId = options.id || `${name}-group`;
  return h(
    'fieldset',
    { class: 'field', id: `${groupId}-field`, 'aria-describedby': `${groupId}-error${options.hint ? ` ${groupId}-hint` : ''}` },
    h('legend', {}, legend),
    options.hint ? h('span', { class: 'field__hint', id: `${groupId}-hint` }, options.hint) : null,
    h('span', { class: 'field__error', id: `${groupId}-error`, hidden: true }),
    h(
      'div',
      { class: 'choices' },
      items.map(([value, label, checked], i) =>
        h(
          'div',
          { class: 'choice' },
          h('input', { type, name, id: `${groupId}-${i}`, value, checked: Boolean(checked), onchange: options.onchange }),
          h('label', { for: `${groupId}-${i}` }, label),
        ),
      ),
    ),
  );
}

const input = (id, props = {}) => h('input', { class: 'input', id, name: id, type: 'text', ...props });
const textarea = (id, props = {}) => h('textarea', { class: 'textarea', id, name: id, rows: 4, ...props });
const select = (id, options, props = {}) =>
  h('select', { class: 'select', id, name: id, ...props }, options.map(([value, label, selected]) => h('option', { value, selected: Boolean(selected) }, label)));

function checkedValues(root, name) {
  return [...root.querySelectorAll(`input[name="${name}"]:checked`)].map((el) => el.value);
}

/** Shows `errors` ([{ field?, message }]) in `summary` and next to each field; focuses the summary. */
function showErrorSummary(summary, errors, form) {
  if (form) {
    for (const el of form.querySelectorAll('.field--error')) el.classList.remove('field--error');
    for (const el of form.querySelectorAll('.field__error')) {
      el.hidden = true;
      el.textContent = '';
    }
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  }
  if (errors.length === 0) {
    summary.hidden = true;
    clear(summary);
    return;
  }
  clear(summary);
  summary.append(
    h('h2', {}, 'There is a problem'),
    h(
      'ul',
      {},
      errors.map((e) =>
        h(
          'li',
          {},
          e.field
            ? h(
                'a',
                {
                  href: `#${e.field}`,
                  onclick: (ev) => {
                    // The hash drives the router, so focus the field by hand instead of following the link.
                    ev.preventDefault();
                    const target = $(e.field);
                    if (target) target.focus();
                  },
                },
                e.message,
              )
            : e.message,
        ),
      ),
    ),
  );
  summary.hidden = false;
  if (form) {
    for (const e of errors) {
      if (!e.field) continue;
      const control = $(e.field);
      if (control) control.setAttribute('aria-invalid', 'true');
      const wrapper = (control && control.closest('.field')) || $(`${e.field}-field`);
      if (!wrapper) continue;
      wrapper.classList.add('field--error');
      const slot = wrapper.querySelector('.field__error');
      if (slot && slot.hidden) {
        slot.hidden = false;
        slot.textContent = e.message;
      }
    }
  }
  summary.focus();
}

/** Runs `submit` for a form: client checks first, then the API, whose refusals land in the same summary. */
function handleForm(form, summary, validate, submit) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const { errors, value } = validate();
    showErrorSummary(summary, errors, form);
    if (errors.length > 0) return;
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    try {
      await submit(value);
    } catch (err) {
      const message = err instanceof ApiError ? `${err.message}${err.code ? ` (${err.code})` : ''}` : 'Something went wrong. Try again.';
      showErrorSummary(summary, [{ message }], form);
    } finally {
      if (button && button.isConnected) button.disabled = false;
    }
  });
}

function errorSummary(id) {
  return h('div', { class: 'error-summary', id, role: 'alert', tabindex: '-1', hidden: true });
}

/** Shows a view: replaces the content, sets the title, moves focus to its heading for screen readers. */
function showView(title, ...content) {
  const view = clear($('view'));
  const heading = h('h1', { tabindex: '-1', id: 'view-heading' }, title);
  append(view, [heading, ...content]);
  document.title = `${title} — Gatekeeper console`;
  return heading;
}

function focusHeading() {
  const heading = $('view-heading');
  if (heading) heading.focus();
}

function notice(text, kind) {
  return h('div', { class: `notice${kind ? ` notice--${kind}` : ''}`, role: 'status' }, text);
}

function failure(err) {
  return h('div', { class: 'error-summary', role: 'alert' }, h('h2', {}, 'There is a problem'), h('p', {}, err instanceof ApiError ? err.message : 'Something went wrong.'));
}

function tableWrap(label, table) {
  // Scrolls sideways inside itself on narrow screens; focusable so keyboard users can scroll it.
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': label, tabindex: '0' }, table);
}

/**
 * A table of records in its scrolling wrapper: column headings, then one row of cells per record.
 * `caption` is shown unless `hiddenCaption` (then it is for screen readers only, under a visible heading).
 */
function dataTable({ label, caption, hiddenCaption = false, id, columns, rows }) {
  return tableWrap(
    label,
    h(
      'table',
      id ? { id } : {},
      h('caption', hiddenCaption ? { class: 'visually-hidden' } : {}, caption),
      h('thead', {}, h('tr', {}, columns.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, ...cells))),
    ),
  );
}

/* ------------------------------------------------------------------------------------------------------
 * Router.
 * ---------------------------------------------------------------------------------------------------- */

function route() {
  if (!state.me) return;
  const hash = window.location.hash && window.location.hash.startsWith('#/') ? window.location.hash : '#/';
  markNav(hash);
  const [path, query = ''] = hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  const views = {
    customer: () => viewCustomer(parts[1] || ''),
    request: () => viewRequest(parts[1] || params.get('customer') || ''),
    cases: () => viewCases(),
    restriction: () => viewRestriction(parts[1] || ''),
    report: () => viewReport(params.get('month') || previousMonth()),
  };
  const render = parts[0] && Object.hasOwn(views, parts[0]) ? views[parts[0]] : () => viewSearch(params.get('q') || '');
  Promise.resolve(render()).catch((err) => {
    if (!(err instanceof ApiError)) console.error(err);
    showView('Something went wrong', failure(err));
  });
}

/* ------------------------------------------------------------------------------------------------------
 * Find a customer.
 * ---------------------------------------------------------------------------------------------------- */

function viewSearch(initial) {
  const summary = errorSummary('search-error');
  const q = input('search-q', { type: 'search', autocomplete: 'off', spellcheck: 'false', value: initial });
  const results = h('div', { id: 'search-results', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'form', role: 'search', novalidate: true },
    summary,
    field('Phone, email, name or customer ID', q, { hint: 'Any UK phone format works, for example 07700 900123 or +44 7700 900123.' }),
    h('button', { type: 'submit', class: 'button' }, 'Search'),
  );
  showView('Find a customer', form, results);
  handleForm(
    form,
    summary,
    () => {
      const value = q.value.trim();
      return value.length < 2 ? { errors: [{ field: 'search-q', message: 'Enter at least 2 characters to search' }] } : { errors: [], value };
    },
    async (value) => {
      const found = await api(`/v1/customers?q=${enc(value)}`);
      clear(results);
      if (found.length === 0) {
        results.append(h('p', {}, 'No customer matches that search.'));
        return;
      }
      results.append(
        h('h2', {}, `${found.length} ${found.length === 1 ? 'customer' : 'customers'} found`),
        h(
          'ul',
          { class: 'results' },
          found.map((c) =>
            h(
              'li',
              {},
              h('a', { href: `#/customer/${enc(c.id)}` }, c.name),
              h('span', { class: 'muted' }, ` — ${c.id}`),
              c.phones.length || c.emails.length ? h('br') : null,
              h('span', { class: 'muted' }, [...c.phones, ...c.emails].join(', ')),
            ),
          ),
        ),
      );
    },
  );
  if (initial) form.requestSubmit();
  else q.focus();
}

/* ------------------------------------------------------------------------------------------------------
 * The customer card: flags and terms in plain English — never the reason or the evidence.
 * ---------------------------------------------------------------------------------------------------- */

function termsList(restriction) {
  const rows = [];
  const add = (label, value) => rows.push(h('dt', {}, label), h('dd', {}, value));
  if (restriction.singlePointOfContact) add('Single point of contact', restriction.singlePointOfContact.name);
  const named = restriction.measures.find((m) => m.type === 'named-contact');
  if (named) add('Named contact', `${named.staffId === (restriction.singlePointOfContact || {}).id ? restriction.singlePointOfContact.name : staffName(named.staffId)}${named.deputyId ? `; deputy: ${staffName(named.deputyId)}` : ''}`);
  const written = restriction.measures.find((m) => m.type === 'written-only');
  add('Written only', written ? `Yes — by ${listWords((written.channels.length ? written.channels : ['letter', 'email']).map((c) => CHANNEL_NOUNS[c]))}; no calls or visits` : 'No');
  const limit = restriction.measures.find((m) => m.type === 'word-limit');
  add('Word limit', limit ? `${limit.maxWords} words per letter or email` : 'None');
  const frequency = restriction.measures.find((m) => m.type === 'response-frequency');
  if (frequency) {
    const next = frequency.weekday ? nextWeekday(frequency.weekday) : undefined;
    add('Response frequency', `${capitalise(describeFrequency(frequency.every))}${frequency.weekday ? ` on ${WEEKDAY_PLURAL[frequency.weekday]}` : ''}${next ? ` — next: ${formatDate(next)}` : ''}`);
  }
  for (const m of restriction.measures.filter((x) => x.type === 'call-times')) add('Call times', describeMeasure(m));
  if (restriction.reviewAt) {
    const overdue = new Date(restriction.reviewAt).getTime() < now();
    add('Review date', `${formatDate(restriction.reviewAt)}${overdue ? ' (overdue)' : ''}`);
  }
  if (restriction.endsAt) add('Ends', formatDate(restriction.endsAt));
  // Open appeals only: a restriction keeps `appealed` (and the appeal's record) once the outcome is in.
  if (restriction.appealed && !(restriction.appeal && restriction.appeal.outcome)) add('Appeal', 'Under appeal — the restriction still applies');
  for (const e of restriction.exceptions || []) add('One-off exception', `${CHANNEL_NOUNS[e.channel] || e.channel} until ${formatDateTime(e.until)}: ${e.note}`);
  return h('dl', { class: 'terms' }, rows);
}

function customerCard(flags, customer) {
  const needs = (customer ? customer.needs : flags.needs) || [];
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'card-heading', id: 'customer-card' },
    h(
      'div',
      { class: 'card__header' },
      h('h2', { id: 'card-heading', class: 'card__name' }, flags.name),
      h('span', { class: `badge ${flags.restricted ? 'badge--restricted' : 'badge--clear'}` }, flags.restricted ? 'Restricted' : 'No restriction'),
    ),
    h('p', { class: 'muted' }, `Customer ${flags.customerId}`),
    needs.length ? h('p', {}, h('strong', {}, 'Needs: '), needs.map((n) => capitalise(needLabel(n))).join('; ')) : null,
    flags.restricted
      ? [h('h3', {}, 'What this means for this contact'), h('ul', { class: 'flags', id: 'card-flags' }, flags.flags.filter((f) => f !== flags.emergency).map((f) => h('li', {}, f)))]
      : h('p', {}, 'No restriction applies. Deal with the contact as normal.'),
    h('p', { class: 'emergency-rule', id: 'emergency-rule' }, flags.emergency || 'Emergencies are always put through, whatever the restriction'),
    flags.restrictions.map((r, i) => [h('h3', {}, flags.restrictions.length > 1 ? `Terms of restriction ${i + 1}` : 'Terms'), termsList(r)]),
  );
}

async function viewCustomer(id) {
  const heading = showView('Customer record', h('p', {}, 'Loading…'));
  const [flags, customer] = await Promise.all([api(`/v1/customers/${enc(id)}/flags`), api(`/v1/customers/${enc(id)}`).catch(() => null)]);
  const content = [h('p', {}, h('a', { href: '#/' }, 'Back to search')), customerCard(flags, customer)];
  if (hasRole(...ANY_STAFF)) {
    content.push(h('div', { class: 'actions' }, h('a', { class: 'button button--secondary', href: `#/request/${enc(id)}` }, 'Raise a restriction request')));
  }
  const view = $('view');
  heading.textContent = flags.name;
  document.title = `${flags.name} — Gatekeeper console`;
  clear(view).append(heading);
  append(view, content);
  if (hasRole(...CASEWORKERS)) view.append(await caseList(id));
  if (hasRole('tenancy-specialist', 'ts-manager')) view.append(await contactHistory(id));
  focusHeading();
}

async function caseList(customerId) {
  const section = h('section', { 'aria-labelledby': 'cases-heading' }, h('h2', { id: 'cases-heading' }, 'Restrictions and requests'));
  try {
    const { restrictions } = await api('/v1/restrictions');
    const mine = restrictions.filter((r) => r.customerId === customerId);
    if (mine.length === 0) section.append(h('p', {}, 'None on record.'));
    else section.append(restrictionTable('Restrictions for this customer', mine));
  } catch (err) {
    section.append(failure(err));
  }
  return section;
}

/** A length of time in seconds, as people say it: "45 s", "3 min 12 s", "1 h 5 min". */
function formatSeconds(value) {
  const total = Math.round(Number(value));
  if (!Number.isFinite(total) || total < 0) return '';
  if (total < 60) return `${total} s`;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

/** Who answered a call: a member of staff (by name), or the contact centre's queue or line. */
function answeredByName(who) {
  if (who === 'contact-centre') return 'the contact centre';
  if (who === 'deputy') return 'the deputy';
  return staffName(who);
}

/**
 * A call's outcome as Twilio reported it (the `details` channels/voice/call-flow.ts records): who answered
 * and for how long, a voicemail, or no answer. Empty for other channels.
 */
function callOutcome(c) {
  if (c.channel !== 'voice') return '';
  const d = c.details || {};
  const lasting = (text, seconds) => {
    const length = seconds === undefined ? '' : formatSeconds(seconds);
    return length ? `${text} · ${length}` : text;
  };
  // Talk time with whoever answered, when the <Dial> reported it; the whole call otherwise (a queue).
  if (d.answeredBy) return lasting(`Answered by ${answeredByName(d.answeredBy)}`, d.talkSeconds !== undefined ? d.talkSeconds : d.durationSeconds);
  if (d.voicemailFor) return lasting(d.voicemailFor === 'unknown' ? 'Voicemail' : `Voicemail for ${staffName(d.voicemailFor)}`, d.recordingSeconds);
  if (!d.callStatus) return 'No outcome recorded yet';
  // Deflected calls and calls to the emergency line do not reach anyone here; the Outcome column says so.
  if (c.outcome !== 'proceed') return lasting('Call ended', d.durationSeconds);
  // "No answer recorded" rather than "Not answered": a route that hands the call on elsewhere (a redirect)
  // never tells us whether anyone answered.
  return lasting('No answer recorded', d.durationSeconds);
}

async function contactHistory(customerId) {
  const section = h('section', { 'aria-labelledby': 'history-heading' }, h('h2', { id: 'history-heading' }, 'Contact history'));
  try {
    const contacts = await api(`/v1/customers/${enc(customerId)}/contacts?limit=100`);
    const breaches = contacts.filter((c) => c.breach).length;
    section.append(h('p', { id: 'breach-count' }, h('strong', {}, `Breaches: ${breaches}`), ` in the last ${contacts.length} ${contacts.length === 1 ? 'contact' : 'contacts'}`));
    if (contacts.length === 0) {
      section.append(h('p', {}, 'No contacts recorded.'));
      return section;
    }
    section.append(
      dataTable({
        label: 'Contact history',
        caption: 'Contacts, newest first',
        hiddenCaption: true,
        columns: ['When', 'Channel', 'Outcome', 'Reasons', 'Breach', 'Call outcome'],
        rows: contacts.map((c) => [
          h('td', {}, formatDateTime(c.receivedAt)),
          h('td', {}, CHANNEL_TITLES[c.channel] || c.channel),
          h('td', {}, OUTCOME_LABELS[c.outcome] || c.outcome),
          h('td', {}, (c.reasons || []).map((r) => REASON_LABELS[r] || r).join('; ')),
          h('td', {}, c.breach ? 'Yes' : 'No'),
          h('td', {}, callOutcome(c)),
        ]),
      }),
    );
  } catch (err) {
    section.append(failure(err));
  }
  return section;
}

/* ------------------------------------------------------------------------------------------------------
 * Raise a request (any member of staff, with their manager's authorisation).
 * ---------------------------------------------------------------------------------------------------- */

const EVIDENCE_TYPES = [
  ['call-log', 'Call log or recording'],
  ['email', 'Email'],
  ['letter', 'Letter'],
  ['incident-report', 'Incident report'],
  ['other', 'Other record'],
];

function viewRequest(customerId) {
  const summary = errorSummary('request-errors');
  let evidenceCount = 0;
  const evidenceList = h('div', { id: 'evidence-list' });
  const addEvidence = () => {
    const n = evidenceCount;
    evidenceCount += 1;
    evidenceList.append(
      h(
        'fieldset',
        { class: 'window', id: `ev-${n}` },
        h('legend', {}, `Evidence ${n + 1}`),
        field('Type', select(`ev-${n}-type`, EVIDENCE_TYPES)),
        field('Reference', input(`ev-${n}-ref`), { hint: 'Where the record is, for example a call reference or document number' }),
        field('Note (optional)', input(`ev-${n}-note`)),
      ),
    );
  };
  addEvidence();

  const warningDetails = h(
    'div',
    { class: 'subfields', id: 'req-warning-details' },
    field('Date of the warning', input('req-warning-date', { type: 'date', class: 'input input--short' })),
    field('Warning reference (optional)', input('req-warning-ref')),
  );
  const noWarning = h('div', { class: 'subfields', id: 'req-no-warning', hidden: true }, field('Why was no warning given?', textarea('req-no-warning-reason')));
  const onWarningChange = () => {
    const choice = checkedValues(form, 'req-warning')[0];
    warningDetails.hidden = choice === 'none';
    noWarning.hidden = choice !== 'none';
  };

  const form = h(
    'form',
    { class: 'form', novalidate: true, id: 'request-form' },
    summary,
    field('Customer ID', input('req-customer', { value: customerId, autocomplete: 'off' })),
    field('Category of behaviour', select('req-category', [['', 'Choose a category'], ...Object.entries(CATEGORY_LABELS)])),
    field('What happened', textarea('req-summary', { rows: 6 }), { hint: 'Describe the behaviour and its effect. This is kept with the case and never shown to agents.' }),
    h('h2', {}, 'Evidence'),
    evidenceList,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'button button--secondary', id: 'add-evidence', onclick: () => addEvidence() }, 'Add more evidence')),
    field('Authorising manager (staff ID)', input('req-manager', { list: 'staff-datalist', autocomplete: 'off' }), { hint: 'Your manager, who has agreed this request' }),
    choices(
      'Was the customer warned first?',
      'req-warning',
      'radio',
      [
        ['formal', 'Yes, a formal warning', true],
        ['informal', 'Yes, an informal warning'],
        ['none', 'No warning was given'],
      ],
      { id: 'req-warning', onchange: () => onWarningChange() },
    ),
    warningDetails,
    noWarning,
    h('button', { type: 'submit', class: 'button' }, 'Send request'),
  );
  showView('Request a restriction', h('p', {}, 'The policy asks for the behaviour, the evidence, and your manager’s agreement. A tenancy specialist then decides the measures.'), form);
  focusHeading();

  // One Idempotency-Key for this form, kept until the request is recorded: sending it again after an unclear
  // failure (a lost answer, a 503) gets the first attempt's restriction instead of a second request, and an
  // edited request after a stored one is refused rather than recorded twice.
  const requestKey = randomKey();
  handleForm(
    form,
    summary,
    () => {
      const errors = [];
      const v = (id) => $(id).value.trim();
      if (!v('req-customer')) errors.push({ field: 'req-customer', message: 'Enter the customer ID' });
      if (!v('req-category')) errors.push({ field: 'req-category', message: 'Choose the category of behaviour' });
      if (!v('req-summary')) errors.push({ field: 'req-summary', message: 'Describe what happened' });
      const evidence = [];
      for (let i = 0; i < evidenceCount; i += 1) {
        const reference = v(`ev-${i}-ref`);
        const note = v(`ev-${i}-note`);
        if (reference) evidence.push({ type: v(`ev-${i}-type`), reference, ...(note ? { note } : {}) });
        else if (note) errors.push({ field: `ev-${i}-ref`, message: `Give a reference for evidence ${i + 1}` });
      }
      if (evidence.length === 0 && !errors.some((e) => e.field && e.field.startsWith('ev-'))) errors.push({ field: 'ev-0-ref', message: 'Give at least one piece of evidence' });
      if (!v('req-manager')) errors.push({ field: 'req-manager', message: 'Enter the staff ID of the manager who authorised this' });
      else if (v('req-manager') === state.me.id) errors.push({ field: 'req-manager', message: 'The authorising manager must be someone other than you' });
      const warned = checkedValues(form, 'req-warning')[0];
      const value = { customerId: v('req-customer'), category: v('req-category'), summary: v('req-summary'), evidence, authorisedBy: v('req-manager') };
      if (warned === 'none') {
        if (!v('req-no-warning-reason')) errors.push({ field: 'req-no-warning-reason', message: 'Say why no warning was given' });
        value.noWarningReason = v('req-no-warning-reason');
      } else {
        const date = v('req-warning-date');
        if (!date) errors.push({ field: 'req-warning-date', message: 'Enter the date of the warning' });
        else if (date > todayLocal()) errors.push({ field: 'req-warning-date', message: 'The warning date must be today or in the past' });
        value.warnings = [{ type: warned, date, ...(v('req-warning-ref') ? { reference: v('req-warning-ref') } : {}) }];
      }
      return { errors, value };
    },
    async (value) => {
      let created;
      try {
        created = await api('/v1/restrictions', { method: 'POST', body: value, idempotencyKey: requestKey });
      } catch (error) {
        if (error instanceof ApiError && error.code === 'idempotency-key-reused') {
          throw new ApiError(
            422,
            error.code,
            'An earlier version of this request may already have been recorded. Check the customer’s restrictions before sending it again, or reload the page to send a new request.',
          );
        }
        throw error;
      }
      const done = h(
        'div',
        { class: 'notice notice--success', role: 'status', id: 'request-created' },
        h('p', {}, `Request ${created.id} recorded. A tenancy specialist will decide the measures.`),
        hasRole(...CASEWORKERS) ? h('p', {}, h('a', { href: `#/restriction/${enc(created.id)}` }, `Open ${created.id}`)) : null,
      );
      showView('Request sent', done, h('p', {}, h('a', { href: `#/customer/${enc(value.customerId)}` }, 'Back to the customer')));
      focusHeading();
    },
  );
}

/* ------------------------------------------------------------------------------------------------------
 * The measures editor, shared by decide, review (vary) and appeal outcome (varied). It validates what the
 * API validates (rules/validation.ts), so a tenancy specialist sees every problem before submitting.
 * ---------------------------------------------------------------------------------------------------- */

const MEASURE_LABELS = [
  ['call-times', 'Call times'],
  ['named-contact', 'Named contact (and deputy)'],
  ['appointments-only', 'Visits by appointment only'],
  ['written-only', 'Written contact only'],
  ['word-limit', 'Word limit'],
  ['response-frequency', 'Response frequency'],
  ['new-issues-only', 'New issues only'],
  ['other', 'Other arrangement'],
];

function measuresEditor(prefix, initial) {
  const byType = new Map((initial || []).map((m) => [m.type, m]));
  const sub = {};
  let windowCount = 0;
  const windows = h('div', { id: `${prefix}-windows` });
  const addWindow = (w) => {
    const n = windowCount;
    windowCount += 1;
    const days = w ? w.days : [];
    const box = h(
      'fieldset',
      { class: 'window', id: `${prefix}-w${n}` },
      h('legend', {}, `Call window ${n + 1}`),
      choices('Days', `${prefix}-w${n}-days`, 'checkbox', WEEKDAYS.map((d) => [d, WEEKDAY_SHORT[d], days.includes(d)]), { id: `${prefix}-w${n}-days` }),
      h(
        'div',
        { class: 'inline-fields' },
        field('From', input(`${prefix}-w${n}-start`, { type: 'time', class: 'input input--short', value: w ? w.start : '' })),
        field('Until', input(`${prefix}-w${n}-end`, { type: 'time', class: 'input input--short', value: w ? w.end : '' })),
      ),
      n > 0
        ? h(
            'button',
            {
              type: 'button',
              class: 'button button--secondary button--small',
              onclick: () => {
                box.remove();
              },
            },
            `Remove call window ${n + 1}`,
          )
        : null,
    );
    windows.append(box);
  };
  const ct = byType.get('call-times');
  if (ct) ct.windows.forEach((w) => addWindow(w));
  else addWindow();

  const nc = byType.get('named-contact') || {};
  const ao = byType.get('appointments-only') || {};
  const wo = byType.get('written-only');
  const wl = byType.get('word-limit') || {};
  const rf = byType.get('response-frequency') || {};
  const ot = byType.get('other') || {};
  sub['call-times'] = [
    windows,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'button button--secondary button--small', onclick: () => addWindow() }, 'Add another call window')),
    field('On bank holidays', select(`${prefix}-bank-holidays`, [['closed', 'Closed (no calls)', (ct || {}).bankHolidays !== 'open'], ['open', 'Open as normal', (ct || {}).bankHolidays === 'open']])),
  ];
  sub['named-contact'] = [
    field('Named contact (staff ID)', input(`${prefix}-nc-staff`, { list: 'staff-datalist', autocomplete: 'off', value: nc.staffId || '' })),
    field('Deputy (staff ID, optional)', input(`${prefix}-nc-deputy`, { list: 'staff-datalist', autocomplete: 'off', value: nc.deputyId || '' })),
  ];
  sub['appointments-only'] = [field('Appointments with (staff ID)', input(`${prefix}-ao-staff`, { list: 'staff-datalist', autocomplete: 'off', value: ao.staffId || '' }))];
  sub['written-only'] = [
    choices(
      'Written channels the customer may use',
      `${prefix}-wo-channels`,
      'checkbox',
      [
        ['letter', 'Letter', !wo || wo.channels.length === 0 || wo.channels.includes('letter')],
        ['email', 'Email', !wo || wo.channels.length === 0 || wo.channels.includes('email')],
      ],
      { id: `${prefix}-wo-channels` },
    ),
  ];
  sub['word-limit'] = [field('Most words per letter or email', input(`${prefix}-wl-max`, { type: 'number', inputmode: 'numeric', min: '1', class: 'input input--short', value: wl.maxWords || '' }))];
  sub['response-frequency'] = [
    field('Respond', select(`${prefix}-rf-every`, [['P7D', 'Weekly', !rf.every || rf.every === 'P7D'], ['P14D', 'Fortnightly', rf.every === 'P14D'], ['P28D', 'Every 4 weeks', rf.every === 'P28D'], ['P1D', 'Daily', rf.every === 'P1D']])),
    field('On', select(`${prefix}-rf-weekday`, [['', 'Any day', !rf.weekday], ...WEEKDAYS.map((d) => [d, WEEKDAY_PLURAL[d], rf.weekday === d])])),
  ];
  sub['other'] = [field('Describe the arrangement for staff', textarea(`${prefix}-ot-desc`, { value: ot.description || '' }))];

  const groups = MEASURE_LABELS.map(([type, label], i) => {
    const details = h('div', { class: 'subfields', id: `${prefix}-${type}`, hidden: !byType.has(type) }, sub[type] || []);
    const box = h('input', {
      type: 'checkbox',
      name: `${prefix}-types`,
      id: `${prefix}-types-${i}`,
      value: type,
      checked: byType.has(type),
      'aria-controls': `${prefix}-${type}`,
      onchange: (ev) => {
        details.hidden = !ev.target.checked;
      },
    });
    return h('div', {}, h('div', { class: 'choice' }, box, h('label', { for: `${prefix}-types-${i}` }, label)), details);
  });
  const element = h(
    'fieldset',
    { class: 'field', id: `${prefix}-types-field`, 'aria-describedby': `${prefix}-types-error` },
    h('legend', {}, 'Measures'),
    h('span', { class: 'field__hint' }, 'Choose each measure and fill in its details. Emergencies are always put through, whatever you choose.'),
    h('span', { class: 'field__error', id: `${prefix}-types-error`, hidden: true }),
    groups,
  );

  /** Reads the measures and every problem with them. */
  function read() {
    const errors = [];
    const measures = [];
    const val = (id) => ($(id) ? $(id).value.trim() : '');
    const knownStaff = (fieldId, label) => {
      const id = val(fieldId);
      if (!id) errors.push({ field: fieldId, message: `Enter the ${label}` });
      else if (state.staff && !state.staff.has(id)) errors.push({ field: fieldId, message: `There is no member of staff with the ID “${id}”` });
      return id;
    };
    const chosen = checkedValues(element, `${prefix}-types`);
    if (chosen.length === 0) errors.push({ field: `${prefix}-types-0`, message: 'Choose at least one measure' });
    for (const type of chosen) {
      switch (type) {
        case 'call-times': {
          const list = [];
          for (const box of windows.querySelectorAll('fieldset.window')) {
            const n = box.id.slice(`${prefix}-w`.length);
            const label = box.querySelector('legend').textContent;
            const days = checkedValues(box, `${prefix}-w${n}-days`);
            const start = val(`${prefix}-w${n}-start`);
            const end = val(`${prefix}-w${n}-end`);
            if (days.length === 0) errors.push({ field: `${prefix}-w${n}-days-0`, message: `${label}: choose at least one day` });
            if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(start)) errors.push({ field: `${prefix}-w${n}-start`, message: `${label}: enter the start time, for example 10:00` });
            if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(end)) errors.push({ field: `${prefix}-w${n}-end`, message: `${label}: enter the end time, for example 12:00` });
            else if (start && start >= end) errors.push({ field: `${prefix}-w${n}-end`, message: `${label}: the end time must be after the start time (a window cannot run past midnight; split it in two)` });
            list.push({ days, start, end });
          }
          measures.push({ type, windows: list, bankHolidays: val(`${prefix}-bank-holidays`) || 'closed' });
          break;
        }
        case 'named-contact': {
          const staffId = knownStaff(`${prefix}-nc-staff`, 'named contact’s staff ID');
          const deputyId = val(`${prefix}-nc-deputy`);
          if (deputyId && state.staff && !state.staff.has(deputyId)) errors.push({ field: `${prefix}-nc-deputy`, message: `There is no member of staff with the ID “${deputyId}”` });
          if (deputyId && deputyId === staffId) errors.push({ field: `${prefix}-nc-deputy`, message: 'The deputy must be someone other than the named contact' });
          measures.push({ type, staffId, ...(deputyId ? { deputyId } : {}) });
          break;
        }
        case 'appointments-only':
          measures.push({ type, staffId: knownStaff(`${prefix}-ao-staff`, 'staff ID for appointments') });
          break;
        case 'written-only': {
          const channels = checkedValues(element, `${prefix}-wo-channels`);
          if (channels.length === 0) errors.push({ field: `${prefix}-wo-channels-0`, message: 'Choose letter, email or both for written contact' });
          measures.push({ type, channels });
          break;
        }
        case 'word-limit': {
          const raw = val(`${prefix}-wl-max`);
          const maxWords = Number(raw);
          if (!/^\d+$/.test(raw) || maxWords < 1) errors.push({ field: `${prefix}-wl-max`, message: 'Enter the word limit as a whole number, 1 or more' });
          measures.push({ type, maxWords });
          break;
        }
        case 'response-frequency': {
          const weekday = val(`${prefix}-rf-weekday`);
          measures.push({ type, every: val(`${prefix}-rf-every`), ...(weekday ? { weekday } : {}) });
          break;
        }
        case 'new-issues-only':
          measures.push({ type });
          break;
        case 'other': {
          const description = val(`${prefix}-ot-desc`);
          if (!description) errors.push({ field: `${prefix}-ot-desc`, message: 'Describe the other arrangement' });
          measures.push({ type, description });
          break;
        }
        default:
          break;
      }
    }
    return { measures, errors };
  }

  return { element, read };
}

/** Reasonable adjustments: one optional box per need that closes a channel. */
function adjustmentsEditor(prefix, customer, existing) {
  const needs = customer.needs.filter((n) => UNUSABLE_BY_NEED[n]);
  const current = new Map((existing || []).map((a) => [a.need, a.arrangement]));
  const element = needs.length
    ? h(
        'fieldset',
        { class: 'field' },
        h('legend', {}, 'Reasonable adjustments (optional)'),
        h('span', { class: 'field__hint' }, 'If you arrange a way round one of the customer’s needs, describe it here; that need then no longer rules a channel out.'),
        needs.map((need, i) => field(`Adjustment because the customer ${needLabel(need)}`, textarea(`${prefix}-adj-${i}`, { rows: 2, value: current.get(need) || '' }))),
      )
    : null;
  const read = () =>
    needs
      .map((need, i) => ({ need, arrangement: $(`${prefix}-adj-${i}`) ? $(`${prefix}-adj-${i}`).value.trim() : '' }))
      .filter((a) => a.arrangement !== '');
  return { element, read };
}

/** Checks a review date: present, in the future, within the policy's maximum from `start`. */
function checkReviewDate(fieldId, date, start, errors) {
  if (!date) {
    errors.push({ field: fieldId, message: 'Enter the review date' });
    return undefined;
  }
  const iso = localToIso(date, '09:00');
  const t = new Date(iso).getTime();
  if (t <= now()) errors.push({ field: fieldId, message: 'The review date must be in the future' });
  else if (t > addMonths(start, REVIEW_MAX_MONTHS).getTime()) errors.push({ field: fieldId, message: `The review date must be within ${REVIEW_MAX_MONTHS} months of the start` });
  return iso;
}

function checkChannels(measures, customer, adjustments, errors, fieldId) {
  if (measures.length === 0) return;
  if (usableChannels(measures, customer.needs, adjustments).length === 0) {
    errors.push({ field: fieldId, message: noChannelExplanation(measures, customer.needs, adjustments, customer.name) });
  }
}

/* ------------------------------------------------------------------------------------------------------
 * Cases: lists by status, reviews due within 14 days, overdue reviews.
 * ---------------------------------------------------------------------------------------------------- */

function restrictionTable(label, rows) {
  return dataTable({
    label,
    caption: label,
    columns: ['Restriction', 'Customer', 'Category', 'Status', 'Review date'],
    rows: rows.map((r) => [
      h('td', {}, h('a', { href: `#/restriction/${enc(r.id)}` }, r.id)),
      h('td', {}, h('a', { href: `#/customer/${enc(r.customerId)}` }, r.customerId)),
      h('td', {}, CATEGORY_LABELS[r.category] || r.category),
      h('td', {}, STATUS_LABELS[r.status] || r.status),
      h('td', {}, r.reviewAt ? formatDate(r.reviewAt) : '—'),
    ]),
  });
}

async function viewCases() {
  showView('Cases and reviews', h('p', {}, 'Loading…'));
  const [requested, pending, active] = await Promise.all(['requested', 'pending-approval', 'active'].map((s) => api(`/v1/restrictions?status=${s}`).then((r) => r.restrictions)));
  const at = now();
  const in14 = at + 14 * 86_400_000;
  const due = active.filter((r) => r.reviewAt && new Date(r.reviewAt).getTime() >= at && new Date(r.reviewAt).getTime() <= in14);
  const overdue = active.filter((r) => r.reviewAt && new Date(r.reviewAt).getTime() < at);
  const section = (id, title, rows, empty) =>
    h('section', { 'aria-labelledby': id }, h('h2', { id }, `${title} (${rows.length})`), rows.length ? restrictionTable(title, rows) : h('p', {}, empty));

  const statusSummary = errorSummary('status-error');
  const statusResults = h('div', { id: 'status-results' });
  const statusForm = h(
    'form',
    { class: 'form', novalidate: true },
    statusSummary,
    field('Status', select('status-filter', Object.entries(STATUS_LABELS).map(([value, label]) => [value, label, value === 'lifted']))),
    h('button', { type: 'submit', class: 'button button--secondary' }, 'Show'),
  );
  handleForm(
    statusForm,
    statusSummary,
    () => ({ errors: [], value: $('status-filter').value }),
    async (status) => {
      const { restrictions } = await api(`/v1/restrictions?status=${enc(status)}`);
      clear(statusResults).append(restrictions.length ? restrictionTable(STATUS_LABELS[status], restrictions) : h('p', {}, 'None.'));
    },
  );

  const view = $('view');
  const heading = $('view-heading');
  clear(view).append(heading);
  append(view, [
    section('overdue-heading', 'Overdue reviews', overdue, 'No reviews are overdue.'),
    section('due-heading', 'Reviews due in the next 14 days', due, 'No reviews are due in the next 14 days.'),
    section('requested-heading', 'Requests waiting for a decision', requested, 'No requests are waiting.'),
    section('pending-heading', 'Decisions waiting for approval', pending, 'No decisions are waiting for approval.'),
    section('active-heading', 'Active restrictions', active, 'No restrictions are active.'),
    h('section', { 'aria-labelledby': 'by-status-heading' }, h('h2', { id: 'by-status-heading' }, 'Find by status'), statusForm, statusResults),
  ]);
  focusHeading();
}

/* ------------------------------------------------------------------------------------------------------
 * One restriction: its record, and the actions the signed-in role may take at its status.
 * ---------------------------------------------------------------------------------------------------- */

async function viewRestriction(id) {
  showView(`Restriction ${id}`, h('p', {}, 'Loading…'));
  const r = await api(`/v1/restrictions/${enc(id)}`);
  const customer = await api(`/v1/customers/${enc(r.customerId)}`);
  const view = $('view');
  const heading = $('view-heading');
  clear(view).append(heading);

  const rows = [];
  const add = (label, value) => value !== undefined && value !== null && value !== '' && rows.push(h('dt', {}, label), h('dd', {}, value));
  add('Status', h('strong', { id: 'restriction-status' }, STATUS_LABELS[r.status] || r.status));
  add('Customer', h('a', { href: `#/customer/${enc(r.customerId)}` }, `${customer.name} (${r.customerId})`));
  add('Customer’s needs', customer.needs.length ? customer.needs.map((n) => capitalise(needLabel(n))).join('; ') : 'None recorded');
  add('Category', CATEGORY_LABELS[r.category] || r.category);
  add('What happened', r.summary);
  add('Evidence', r.evidence.map((e) => `${e.type}: ${e.reference}${e.note ? ` (${e.note})` : ''}`).join('; '));
  add('Warnings', r.warnings.length ? r.warnings.map((w) => `${w.type} on ${w.date}${w.reference ? ` (${w.reference})` : ''}`).join('; ') : `None — ${r.noWarningReason || ''}`);
  add('Requested', `${formatDateTime(r.requestedAt)} by ${staffName(r.requestedBy)}, authorised by ${staffName(r.authorisedBy)}`);
  if (r.decidedAt) add('Decided', `${formatDateTime(r.decidedAt)} by ${staffName(r.decidedBy)}`);
  if (r.approvedAt) add('Approved', `${formatDateTime(r.approvedAt)} by ${staffName(r.approvedBy)}`);
  if (r.measures.length) add('Measures', h('ul', { class: 'flags' }, r.measures.map((m) => h('li', {}, describeMeasure(m)))));
  if (r.singlePointOfContact) add('Single point of contact', staffName(r.singlePointOfContact));
  if (r.startsAt) add('Starts', formatDateTime(r.startsAt));
  if (r.reviewAt) add('Review date', formatDate(r.reviewAt));
  if (r.endsAt) add('Ends', formatDate(r.endsAt));
  if (r.adjustments.length) add('Reasonable adjustments', r.adjustments.map((a) => `${capitalise(needLabel(a.need))}: ${a.arrangement}`).join('; '));
  if (r.appeal) {
    add('Appeal', `Received ${formatDate(r.appeal.receivedAt)}: ${r.appeal.grounds}${r.appeal.outcome ? ` — ${r.appeal.outcome} by ${staffName(r.appeal.decidedBy)}: ${r.appeal.note || ''}` : ' — awaiting the outcome'}`);
  }
  append(view, [h('dl', { class: 'terms' }, rows)]);

  const actions = h('div', { id: 'restriction-actions' });
  view.append(actions);
  const isTS = hasRole('tenancy-specialist');
  const isTSM = hasRole('ts-manager');
  if (r.status === 'requested' && isTS) actions.append(decideForm(r, customer));
  if (r.status === 'pending-approval' && isTSM) actions.append(approveForm(r));
  if ((r.status === 'requested' || r.status === 'pending-approval') && (isTS || isTSM)) actions.append(rejectForm(r));
  if (r.status === 'active' && isTS) actions.append(reviewForm(r, customer));
  const appealOpen = r.appeal && !r.appeal.outcome;
  if (r.status === 'active' && !appealOpen && (isTS || isTSM)) actions.append(appealForm(r));
  if (r.status === 'active' && appealOpen && isTSM) actions.append(appealOutcomeForm(r, customer));

  view.append(
    h('h2', {}, 'History'),
    dataTable({
      label: 'History',
      caption: 'Every step, oldest first',
      hiddenCaption: true,
      columns: ['When', 'Step', 'By', 'Note'],
      rows: r.history.map((step) => [h('td', {}, formatDateTime(step.at)), h('td', {}, `${step.action} → ${step.to}`), h('td', {}, staffName(step.by)), h('td', {}, step.note || '')]),
    }),
  );
  focusHeading();
}

/** After an action: show the restriction again with a confirmation at the top. */
async function afterAction(id, message) {
  await viewRestriction(id);
  const heading = $('view-heading');
  heading.after(notice(message, 'success'));
}

/** The hint of an optional step note: every transition records why (DESIGN.md §2), and who will read it. */
const PRIVATE_NOTE_HINT = 'Kept in the case history. Never shown to agents or sent to the customer.';

function decideForm(r, customer) {
  const summary = errorSummary('decide-errors');
  const measures = measuresEditor('decide', []);
  const adjustments = adjustmentsEditor('decide', customer, []);
  const form = h(
    'form',
    { class: 'form', novalidate: true, id: 'decide-form' },
    h('h2', {}, 'Decide the measures'),
    summary,
    measures.element,
    field('Single point of contact (staff ID)', input('decide-spoc', { list: 'staff-datalist', autocomplete: 'off', value: state.me.id })),
    field('Start date (optional)', input('decide-starts', { type: 'date', class: 'input input--short' }), { hint: 'Leave empty to start when approved' }),
    field('Review date', input('decide-review', { type: 'date', class: 'input input--short' }), { hint: `Within ${REVIEW_MAX_MONTHS} months` }),
    field('End date (optional)', input('decide-ends', { type: 'date', class: 'input input--short' }), { hint: 'The restriction ends at the start of this day' }),
    adjustments.element,
    field('Reasons for these measures (optional)', textarea('decide-note', { rows: 3 }), { hint: PRIVATE_NOTE_HINT }),
    h('button', { type: 'submit', class: 'button' }, 'Send for approval'),
  );
  handleForm(
    form,
    summary,
    () => {
      const { measures: list, errors } = measures.read();
      const spoc = $('decide-spoc').value.trim();
      if (!spoc) errors.push({ field: 'decide-spoc', message: 'Enter the single point of contact' });
      else if (state.staff && !state.staff.has(spoc)) errors.push({ field: 'decide-spoc', message: `There is no member of staff with the ID “${spoc}”` });
      const startsDate = $('decide-starts').value;
      const startsAt = startsDate ? localToIso(startsDate, '00:00') : undefined;
      const start = startsAt ? new Date(startsAt) : new Date(now());
      const reviewAt = checkReviewDate('decide-review', $('decide-review').value, start, errors);
      const endsDate = $('decide-ends').value;
      const endsAt = endsDate ? localToIso(endsDate, '00:00') : undefined;
      if (endsAt && new Date(endsAt).getTime() <= start.getTime()) errors.push({ field: 'decide-ends', message: 'The end date must be after the start' });
      const adj = adjustments.read();
      checkChannels(list, customer, adj, errors, 'decide-types-0');
      const note = $('decide-note').value.trim();
      const value = { measures: list, reviewAt, singlePointOfContact: spoc, ...(startsAt ? { startsAt } : {}), ...(endsAt ? { endsAt } : {}), ...(adj.length ? { adjustments: adj } : {}), ...(note ? { note } : {}) };
      return { errors, value };
    },
    async (value) => {
      await api(`/v1/restrictions/${enc(r.id)}/decide`, { method: 'POST', body: value });
      await afterAction(r.id, 'Measures decided. A tenancy specialist manager must now approve them.');
    },
  );
  return form;
}

function approveForm(r) {
  const summary = errorSummary('approve-errors');
  const form = h(
    'form',
    { class: 'form', novalidate: true, id: 'approve-form' },
    h('h2', {}, 'Approve'),
    summary,
    h('p', {}, 'Approving starts enforcement and sends the customer their notification letter.'),
    field('Note (optional)', textarea('approve-note', { rows: 2 }), { hint: PRIVATE_NOTE_HINT }),
    h('button', { type: 'submit', class: 'button' }, 'Approve restriction'),
  );
  handleForm(
    form,
    summary,
    () => {
      const note = $('approve-note').value.trim();
      return { errors: [], value: note ? { note } : {} };
    },
    async (value) => {
      await api(`/v1/restrictions/${enc(r.id)}/approve`, { method: 'POST', body: value });
      await afterAction(r.id, 'Approved. The restriction is now active.');
    },
  );
  return form;
}

function rejectForm(r) {
  const summary = errorSummary('reject-errors');
  const form = h(
    'form',
    { class: 'form', novalidate: true, id: 'reject-form' },
    h('h2', {}, 'Reject'),
    summary,
    field('Reason for rejecting', textarea('reject-reason', { rows: 3 })),
    h('button', { type: 'submit', class: 'button button--warning' }, 'Reject'),
  );
  handleForm(
    form,
    summary,
    () => {
      const reason = $('reject-reason').value.trim();
      return reason ? { errors: [], value: { reason } } : { errors: [{ field: 'reject-reason', message: 'Give the reason for rejecting' }] };
    },
    async (value) => {
      await api(`/v1/restrictions/${enc(r.id)}/reject`, { method: 'POST', body: value });
      await afterAction(r.id, 'Rejected.');
    },
  );
  return form;
}

function reviewForm(r, customer) {
  const summary = errorSummary('review-errors');
  const measures = measuresEditor('review', r.measures);
  const measuresBox = h('div', { id: 'review-measures', hidden: true }, measures.element);
  const nextReview = field('Next review date', input('review-next', { type: 'date', class: 'input input--short' }), { hint: `Within ${REVIEW_MAX_MONTHS} months` });
  const onOutcome = () => {
    const outcome = checkedValues(form, 'review-outcome')[0];
    measuresBox.hidden = outcome !== 'vary';
    nextReview.hidden = outcome === 'lift';
  };
  const form = h(
    'form',
    { class: 'form', novalidate: true, id: 'review-form' },
    h('h2', {}, 'Review'),
    summary,
    choices(
      'Outcome',
      'review-outcome',
      'radio',
      [
        ['continue', 'Continue as it is', true],
        ['vary', 'Vary the measures'],
        ['lift', 'Lift the restriction'],
      ],
      { id: 'review-outcome', onchange: () => onOutcome() },
    ),
    measuresBox,
    field('Reasons', textarea('review-note', { rows: 3 }), { hint: 'Recorded with the review and given in the customer’s letter' }),
    nextReview,
    h('button', { type: 'submit', class: 'button' }, 'Record review'),
  );
  handleForm(
    form,
    summary,
    () => {
      const errors = [];
      const outcome = checkedValues(form, 'review-outcome')[0];
      const note = $('review-note').value.trim();
      if (!note) errors.push({ field: 'review-note', message: 'Record the reasons for the outcome' });
      const value = { outcome, note };
      if (outcome !== 'lift') value.nextReviewAt = checkReviewDate('review-next', $('review-next').value, new Date(now()), errors);
      if (outcome === 'vary') {
        const read = measures.read();
        errors.push(...read.errors);
        checkChannels(read.measures, customer, r.adjustments, errors, 'review-types-0');
        value.measures = read.measures;
      }
      return { errors, value };
    },
    async (value) => {
      await api(`/v1/restrictions/${enc(r.id)}/review`, { method: 'POST', body: value });
      await afterAction(r.id, 'Review recorded.');
    },
  );
  return form;
}

function appealForm(r) {
  const summary = errorSummary('appeal-errors');
  const form = h(
    'form',
    { class: 'form', novalidate: true, id: 'appeal-form' },
    h('h2', {}, 'Record an appeal'),
    summary,
    field('Date the appeal was received', input('appeal-received', { type: 'date', class: 'input input--short', value: todayLocal() })),
    field('Grounds of the appeal', textarea('appeal-grounds', { rows: 3 })),
    h('button', { type: 'submit', class: 'button button--secondary' }, 'Record appeal'),
  );
  handleForm(
    form,
    summary,
    () => {
      const errors = [];
      const grounds = $('appeal-grounds').value.trim();
      const date = $('appeal-received').value;
      if (!grounds) errors.push({ field: 'appeal-grounds', message: 'Record the grounds of the appeal' });
      if (!date) errors.push({ field: 'appeal-received', message: 'Enter the date the appeal was received' });
      else if (date > todayLocal()) errors.push({ field: 'appeal-received', message: 'The date received cannot be in the future' });
      const receivedAt = date === todayLocal() ? new Date(now()).toISOString() : date ? localToIso(date, '12:00') : undefined;
      return { errors, value: { grounds, ...(receivedAt ? { receivedAt } : {}) } };
    },
    async (value) => {
      await api(`/v1/restrictions/${enc(r.id)}/appeal`, { method: 'POST', body: value });
      await afterAction(r.id, 'Appeal recorded. The restriction still applies while it is decided.');
    },
  );
  return form;
}

function appealOutcomeForm(r, customer) {
  const summary = errorSummary('appeal-outcome-errors');
  const measures = measuresEditor('appeal', r.measures);
  const measuresBox = h('div', { id: 'appeal-measures', hidden: true }, measures.element);
  const form = h(
    'form',
    { class: 'form', novalidate: true, id: 'appeal-outcome-form' },
    h('h2', {}, 'Appeal outcome'),
    summary,
    choices(
      'Outcome',
      'appeal-outcome',
      'radio',
      [
        ['dismissed', 'Dismissed — the restriction stays', true],
        ['varied', 'Varied — change the measures'],
        ['upheld', 'Upheld — lift the restriction'],
      ],
      {
        id: 'appeal-outcome',
        onchange: () => {
          measuresBox.hidden = checkedValues(form, 'appeal-outcome')[0] !== 'varied';
        },
      },
    ),
    measuresBox,
    field('Reasons', textarea('appeal-note', { rows: 3 })),
    h('button', { type: 'submit', class: 'button' }, 'Record outcome'),
  );
  handleForm(
    form,
    summary,
    () => {
      const errors = [];
      const outcome = checkedValues(form, 'appeal-outcome')[0];
      const note = $('appeal-note').value.trim();
      if (!note) errors.push({ field: 'appeal-note', message: 'Record the reasons for the outcome' });
      const value = { outcome, note };
      if (outcome === 'varied') {
        const read = measures.read();
        errors.push(...read.errors);
        checkChannels(read.measures, customer, r.adjustments, errors, 'appeal-types-0');
        value.measures = read.measures;
      }
      return { errors, value };
    },
    async (value) => {
      await api(`/v1/restrictions/${enc(r.id)}/appeal-outcome`, { method: 'POST', body: value });
      await afterAction(r.id, 'Appeal outcome recorded.');
    },
  );
  return form;
}

/* ------------------------------------------------------------------------------------------------------
 * Monthly report (ts-manager): figures, a bar chart drawn as inline SVG, and the audit sample.
 * ---------------------------------------------------------------------------------------------------- */

function barChart(id, title, bars) {
  const width = 560;
  const labelWidth = 150;
  const barHeight = 26;
  const gap = 10;
  const height = bars.length * (barHeight + gap) + gap;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const plot = width - labelWidth - 50;
  const chart = svg(
    'svg',
    { class: 'chart', id, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': `${id}-title ${id}-desc`, preserveAspectRatio: 'xMinYMin meet' },
    svg('title', { id: `${id}-title`, text: title }),
    svg('desc', { id: `${id}-desc`, text: bars.map((b) => `${b.label}: ${b.value}`).join(', ') }),
    svg('line', { class: 'chart__axis', x1: labelWidth, y1: 0, x2: labelWidth, y2: height }),
  );
  bars.forEach((b, i) => {
    const y = gap + i * (barHeight + gap);
    const w = Math.round((b.value / max) * plot);
    chart.append(
      svg('text', { class: 'chart__label', x: labelWidth - 8, y: y + barHeight / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle', text: b.label }),
      svg('rect', { class: 'chart__bar', x: labelWidth, y, width: Math.max(w, b.value > 0 ? 2 : 0), height: barHeight }),
      svg('text', { class: 'chart__value', x: labelWidth + w + 6, y: y + barHeight / 2, 'dominant-baseline': 'middle', text: b.value }),
    );
  });
  return chart;
}

function figuresTable(label, entries) {
  return tableWrap(
    label,
    h(
      'table',
      {},
      h('caption', {}, label),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Measure'), h('th', { scope: 'col', class: 'num' }, 'Number'))),
      h('tbody', {}, entries.map(([name, value]) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', { class: 'num' }, value)))),
    ),
  );
}

async function viewReport(month) {
  const summary = errorSummary('report-errors');
  const monthInput = input('report-month', { type: 'month', class: 'input input--short', value: month });
  const results = h('div', { id: 'report-results' });
  const form = h(
    'form',
    { class: 'form', novalidate: true },
    summary,
    field('Month', monthInput, { hint: 'For example 2025-06' }),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'button' }, 'Show report'),
      h('button', { type: 'button', class: 'button button--secondary', id: 'report-csv', onclick: () => downloadCsv() }, 'Download CSV'),
    ),
  );
  showView('Monthly compliance report', form, results);
  focusHeading();

  const monthValue = () => monthInput.value.trim();
  async function downloadCsv() {
    const m = monthValue();
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(m)) {
      showErrorSummary(summary, [{ field: 'report-month', message: 'Enter the month as YYYY-MM' }], form);
      return;
    }
    try {
      const csv = await api(`/v1/reports/monthly?month=${enc(m)}`, { accept: 'text/csv' });
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      const a = h('a', { href: url, download: `gatekeeper-monthly-${m}.csv`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      showErrorSummary(summary, [{ message: err.message }], form);
    }
  }

  handleForm(
    form,
    summary,
    () => (/^\d{4}-(0[1-9]|1[0-2])$/.test(monthValue()) ? { errors: [], value: monthValue() } : { errors: [{ field: 'report-month', message: 'Enter the month as YYYY-MM' }] }),
    async (m) => {
      const report = await api(`/v1/reports/monthly?month=${enc(m)}`);
      renderReport(results, report);
    },
  );
  form.requestSubmit();
}

function renderReport(results, report) {
  const r = report.restrictions;
  clear(results).append(
    h('h2', { id: 'report-heading' }, `Report for ${report.month}`),
    // Element.append writes a null as the text "null" (unlike h(), which skips it): spread nothing instead.
    ...(report.complete ? [] : [notice(`This month is still in progress: figures as of ${formatDateTime(report.asOf)}.`)]),
    barChart('report-chart', `Restrictions in ${report.month}`, [
      { label: 'Active at month end', value: r.active },
      { label: 'New', value: r.new },
      { label: 'Varied', value: r.varied },
      { label: 'Lifted', value: r.lifted },
      { label: 'Expired', value: r.expired },
    ]),
    figuresTable('Restrictions', [
      ['Active at month end', r.active],
      ['New (approved)', r.new],
      ['Varied', r.varied],
      ['Lifted', r.lifted],
      ['Expired', r.expired],
      ['Requested', r.requested],
      ['Rejected', r.rejected],
    ]),
    figuresTable('Reviews', [
      ['Done in the month', report.reviews.done],
      ['Due in the month', report.reviews.due],
      ['Overdue at month end', report.reviews.overdue],
    ]),
    figuresTable('Appeals', [
      ['Received', report.appeals.received],
      ['Upheld', report.appeals.upheld],
      ['Dismissed', report.appeals.dismissed],
      ['Varied', report.appeals.varied],
      ['Open at month end', report.appeals.open],
    ]),
    figuresTable('Breaches', [
      ['Contacts that breached a restriction', report.breaches.total],
      ['Restrictions breached', report.breaches.restrictions],
    ]),
    figuresTable('Active restrictions by category', Object.entries(report.byCategory).map(([c, n]) => [CATEGORY_LABELS[c] || c, n.active])),
    figuresTable('Active restrictions by measure', MEASURE_LABELS.map(([type, label]) => [label, report.byMeasure[type] || 0])),
    reportCases(report),
    auditSample(report),
  );
  const heading = $('report-heading');
  if (heading) heading.setAttribute('tabindex', '-1');
}

/** A restriction's history actions (rules/lifecycle.ts) as the case list says them. */
const EVENT_LABELS = {
  request: 'Requested',
  decide: 'Decided',
  approve: 'Approved',
  reject: 'Rejected',
  vary: 'Varied',
  'review:continue': 'Reviewed: continued',
  'review:vary': 'Reviewed: varied',
  'review:lift': 'Reviewed: lifted',
  lift: 'Lifted',
  appeal: 'Appeal received',
  'appeal:upheld': 'Appeal upheld',
  'appeal:varied': 'Appeal: varied',
  'appeal:dismissed': 'Appeal dismissed',
  exception: 'One-off exception',
  expire: 'Expired',
};

/** The cases behind the totals (policy §9: review dates, reasons and restrictions imposed), one row each. */
function reportCases(report) {
  const cases = report.cases || [];
  const measureLabel = new Map(MEASURE_LABELS);
  const review = (c) => {
    if (!c.reviewDueAt) return c.status === 'active' ? 'Not known' : '—';
    return c.reviewOverdue ? h('strong', {}, `${formatDate(c.reviewDueAt)} — overdue`) : formatDate(c.reviewDueAt);
  };
  const section = h('section', { 'aria-labelledby': 'cases-heading' }, h('h2', { id: 'cases-heading' }, `Cases (${cases.length})`));
  if (cases.length === 0) {
    section.append(h('p', {}, 'No restrictions were in force or changed this month.'));
    return section;
  }
  section.append(
    dataTable({
      label: 'Cases',
      caption: 'Cases in force at month end or changed in the month',
      hiddenCaption: true,
      id: 'report-cases',
      columns: ['Restriction', 'Customer', 'Status at month end', 'Reason', 'Measures', 'Review due', 'Breaches', 'In the month'],
      rows: cases.map((c) => [
        h('th', { scope: 'row' }, h('a', { href: `#/restriction/${enc(c.restrictionId)}` }, c.restrictionId)),
        h('td', {}, c.customerId),
        h('td', {}, `${STATUS_LABELS[c.status] || c.status}${c.appealOpen ? '; appeal open' : ''}`),
        h('td', {}, CATEGORY_LABELS[c.category] || c.category),
        h('td', {}, c.measures.map((m) => measureLabel.get(m) || m).join(', ')),
        h('td', {}, review(c)),
        h('td', { class: 'num' }, c.breaches),
        h('td', {}, c.events.map((e) => EVENT_LABELS[e] || e).join(', ')),
      ]),
    }),
  );
  return section;
}

function auditSample(report) {
  const section = h(
    'section',
    { 'aria-labelledby': 'sample-heading' },
    h('h2', { id: 'sample-heading' }, `Audit sample (${report.audited} of ${report.auditSample.length} audited)`),
    h('p', {}, `A random sample of ${report.sampleSize} active cases, the same every time this month’s report is run. Record what you find for each.`),
  );
  if (report.auditSample.length === 0) {
    section.append(h('p', {}, 'No active cases to sample.'));
    return section;
  }
  report.auditSample.forEach((c, i) => {
    const prefix = `audit-${i}`;
    const summary = errorSummary(`${prefix}-errors`);
    const form = h(
      'form',
      { class: 'form card', novalidate: true, id: `${prefix}-form` },
      h('h3', {}, h('a', { href: `#/restriction/${enc(c.restrictionId)}` }, c.restrictionId), ` — customer ${c.customerId}`),
      h('p', {}, `${CATEGORY_LABELS[c.category] || c.category}; ${c.measures.join(', ')}${c.reviewAt ? `; review ${formatDate(c.reviewAt)}` : ''}`),
      h('p', { id: `${prefix}-status` }, c.audit ? `Audited: ${c.audit.outcome === 'compliant' ? 'compliant' : 'action needed'} by ${staffName(c.audit.by)} on ${formatDate(c.audit.at)}${c.audit.note ? ` — ${c.audit.note}` : ''}` : 'Not audited yet.'),
      summary,
      field('Outcome', select(`${prefix}-outcome`, [['compliant', 'Compliant: the policy was followed', !c.audit || c.audit.outcome === 'compliant'], ['action-needed', 'Action needed', c.audit && c.audit.outcome === 'action-needed']])),
      field('Note', textarea(`${prefix}-note`, { rows: 2, value: c.audit ? c.audit.note : '' }), { hint: 'Required when action is needed' }),
      h('button', { type: 'submit', class: 'button button--secondary' }, `Save audit of ${c.restrictionId}`),
    );
    handleForm(
      form,
      summary,
      () => {
        const outcome = $(`${prefix}-outcome`).value;
        const note = $(`${prefix}-note`).value.trim();
        return outcome === 'action-needed' && !note ? { errors: [{ field: `${prefix}-note`, message: 'Say what action is needed' }] } : { errors: [], value: { outcome, note } };
      },
      async (value) => {
        const saved = await api(`/v1/reports/monthly/${enc(report.month)}/audits/${enc(c.restrictionId)}`, { method: 'POST', body: value });
        $(`${prefix}-status`).textContent = `Audited: ${saved.outcome === 'compliant' ? 'compliant' : 'action needed'} by ${staffName(saved.by)} on ${formatDate(saved.at)}${saved.note ? ` — ${saved.note}` : ''}`;
        $(`${prefix}-status`).setAttribute('role', 'status');
      },
    );
    section.append(form);
  });
  return section;
}

/* ------------------------------------------------------------------------------------------------------
 * Start.
 * ---------------------------------------------------------------------------------------------------- */

function start() {
  $('skip-link').addEventListener('click', (ev) => {
    ev.preventDefault();
    $('main').focus();
  });
  $('sign-out').addEventListener('click', () => signOut());
  const form = $('signin-form');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = $('signin-token').value.trim();
    const summary = $('signin-error');
    if (!token) {
      showErrorSummary(summary, [{ field: 'signin-token', message: 'Paste your staff token' }], form);
      return;
    }
    try {
      await signIn(token);
      showErrorSummary(summary, [], form);
    } catch (err) {
      state.token = null;
      const message = err instanceof ApiError && err.status === 401 ? 'That token was not recognised. Check it and try again.' : err.message;
      showErrorSummary(summary, [{ field: 'signin-token', message }], form);
    }
  });
  window.addEventListener('hashchange', () => route());

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    signIn(saved).catch(() => signOut('Your session has ended. Sign in again.'));
  } else {
    signOut();
  }
}

start();
