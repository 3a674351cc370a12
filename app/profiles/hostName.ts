// The one grammar for a host name or address, wherever one enters: a profile, the CLI, an ssh_config.
// A host name ends up in known_hosts lines, in %h of ssh_config paths and in messages, so anything
// beyond DNS names and IP literals (glob characters, separators, shell metacharacters) is refused
// before it can mean something else there. OpenSSH's ssh_valid_hostname (added for CVE-2023-51385)
// refuses less; this refuses everything it does, and more. No Node built-ins: the renderer uses it.

export const HOST_NAME_MAX = 255;

/**
 * Characters that mean something in known_hosts patterns (`* ? ! , [ ] |`), comments (`#`), shells
 * (`$ ( ) ; & < > \` { } ' " \\`), `user@host` and paths (`@ /`): never part of a host name.
 */
const FORBIDDEN = new Set([...'*?!,[]|#$();&<>`{}\'"\\@/']);

const DNS_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
/** A zone (`fe80::1%eth0`) names a local interface; interface names are letters, digits, `.`, `_`, `-`. */
const ZONE = /^[A-Za-z0-9._-]{1,64}$/;

const GRAMMAR = 'must be a host name (letters, digits, "-", "_" and dots), an IPv4 address or an IPv6 address';

/** C0 and C1 control characters and DEL, by code point (a regex of them trips no-control-regex). */
export function isControl(c: string): boolean {
  const code = c.codePointAt(0) ?? 0;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

function describeChar(c: string): string {
  if (c === ' ') return 'a space';
  if (/\s/.test(c)) return 'whitespace';
  // Printable characters are shown; control characters could rewrite the line a person reads.
  return isControl(c) ? 'a control character' : `"${c}"`;
}

/** How many 16-bit groups `text` holds; only the address's last part may be dotted IPv4. */
function ipv6Groups(text: string, endsAddress: boolean): number | undefined {
  if (text === '') return 0;
  const parts = text.split(':');
  let groups = 0;
  for (const [i, part] of parts.entries()) {
    if (endsAddress && i === parts.length - 1 && IPV4.test(part)) groups += 2;
    else if (HEX_GROUP.test(part)) groups += 1;
    else return undefined;
  }
  return groups;
}

export function isIpv6(text: string): boolean {
  const percent = text.indexOf('%');
  const address = percent < 0 ? text : text.slice(0, percent);
  if (percent >= 0 && !ZONE.test(text.slice(percent + 1))) return false;
  const halves = address.split('::');
  if (halves.length > 2) return false;
  if (halves.length === 1) return ipv6Groups(address, true) === 8;
  // `::` stands for at least one group of zeros, so the two sides together hold at most seven.
  const head = ipv6Groups(halves[0]!, false);
  const tail = ipv6Groups(halves[1]!, true);
  return head !== undefined && tail !== undefined && head + tail <= 7;
}

export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

function isDnsName(text: string): boolean {
  const body = text.endsWith('.') ? text.slice(0, -1) : text;
  return body !== '' && body.split('.').every((label) => DNS_LABEL.test(label));
}

/**
 * A last label that is a number (`2130706433`, `0`, `1.2.3`, `010.0.0.1`, `0x7f.1`) is no DNS name
 * (RFC 3696 §2): the resolver reads it as an IPv4 address in inet_aton's loose forms, so `0` would
 * bind every interface while looking like a name. Only the dotted form is accepted as an address.
 */
function looksNumeric(text: string): boolean {
  const body = text.endsWith('.') ? text.slice(0, -1) : text;
  const last = body.slice(body.lastIndexOf('.') + 1);
  return /^\d+$/.test(last) || /^0x[0-9a-f]*$/i.test(last);
}

/** `[::1]` → `::1`; anything else unchanged. Brackets are only a way of writing an IPv6 literal. */
export function unbracketHost(text: string): string {
  return text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
}

/**
 * Why `text` is not a host name or address, as the end of a sentence that starts with the field's
 * name (`server.host: must not contain "*"`); undefined when it is one. Never quotes `text` itself.
 */
export function hostNameProblem(text: string): string | undefined {
  if (text === '') return 'must not be empty';
  if (text.length > HOST_NAME_MAX) return `must be at most ${HOST_NAME_MAX} characters`;
  if (text.startsWith('-')) return 'must not start with "-" (it would be read as an option)';
  const bracketed = text.startsWith('[') && text.endsWith(']');
  const inner = bracketed ? text.slice(1, -1) : text;
  for (const c of inner) {
    if (FORBIDDEN.has(c) || /\s/.test(c) || isControl(c)) {
      return `must not contain ${describeChar(c)}: ${GRAMMAR.replace(/^must be /, 'give ')}`;
    }
  }
  if (bracketed) return isIpv6(inner) ? undefined : 'must be an IPv6 address inside [brackets]';
  if (inner.includes(':')) return isIpv6(inner) ? undefined : GRAMMAR;
  if (isIpv4(inner)) return undefined;
  if (looksNumeric(inner)) return 'must be an IPv4 address written as four numbers 0–255 without leading zeros (like 192.0.2.1), or a host name whose last part is not a number';
  return isDnsName(inner) ? undefined : GRAMMAR;
}
