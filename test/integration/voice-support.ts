/**
 * Helpers for the voice tests: read TwiML back into a small tree (a real XML parser, so the tests see what
 * Twilio would), and sign requests exactly as Twilio does (the twilio library).
 */
import { parseDocument } from 'htmlparser2';
import type { ChildNode, Element } from 'domhandler';
import twilio from 'twilio';

/** One TwiML element. */
export interface TwimlNode {
  name: string;
  attrs: Record<string, string>;
  /** Text directly inside the element (e.g. a `<Say>`'s words, a `<Dial>`'s number). */
  text: string;
  children: TwimlNode[];
}

function toNode(el: Element): TwimlNode {
  const children: TwimlNode[] = [];
  let text = '';
  for (const child of el.children as ChildNode[]) {
    if (child.type === 'tag') children.push(toNode(child as Element));
    else if (child.type === 'text') text += (child as unknown as { data: string }).data;
  }
  return { name: el.name, attrs: { ...el.attribs }, text: text.trim(), children };
}

/** Parses a TwiML document; throws unless its root is `<Response>`. */
export function parseTwiml(xml: string): TwimlNode {
  const doc = parseDocument(xml, { xmlMode: true });
  const root = doc.children.find((c): c is Element => c.type === 'tag');
  if (!root || root.name !== 'Response') throw new Error(`not TwiML: ${xml.slice(0, 200)}`);
  return toNode(root);
}

/** Every element of the tree, depth first. */
export function allNodes(node: TwimlNode): TwimlNode[] {
  return [node, ...node.children.flatMap(allNodes)];
}

/** The names of the root's children, in order. */
export function verbs(node: TwimlNode): string[] {
  return node.children.map((c) => c.name);
}

/** The emergency offer, word for word (DESIGN.md §4; digit configurable). */
export function emergencySentence(digit = '1'): string {
  return `If you are calling about an emergency such as a gas leak, fire, flood, or someone at risk, press ${digit} now.`;
}

/** Twilio's signature of a form POST to `url`. */
export function sign(authToken: string, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

let sidCounter = 0;
/** A CallSid in Twilio's format (`CA` + 32 hex digits), unique within the run. */
export function newCallSid(): string {
  sidCounter += 1;
  const hex = `${Date.now().toString(16)}${sidCounter.toString(16).padStart(6, '0')}${Math.floor(Math.random() * 0xffffffff).toString(16)}`;
  return `CA${hex.padEnd(32, '0').slice(0, 32)}`;
}
