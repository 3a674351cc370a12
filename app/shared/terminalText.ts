// Text a server chose (keyboard-interactive prompts and instructions, disconnect and channel-failure
// reasons) made safe to show on a terminal or in the UI. A hostile server could otherwise clear the
// screen, fake a prompt, retitle the window, set the clipboard (OSC 52), plant a link (OSC 8) or
// reorder what is shown with bidi controls.

/**
 * Escape sequences, 7-bit and 8-bit: CSI (ESC [ / 0x9B, up to its final byte); strings that run to
 * a terminator (OSC, DCS, SOS, PM, APC: ESC ] P X ^ _ or 0x9D 0x90 0x98 0x9E 0x9F, up to BEL, ESC \
 * or 0x9C, or to the end when unterminated); any other ESC with its intermediates and final byte.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ESCAPE_SEQUENCE = /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|$)|\x1b[\x20-\x2f]*[\x30-\x7e]?/g;
/** C0 except tab and newline, DEL, and C1. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Unicode bidi controls (embeddings, overrides, isolates, LRM/RLM/ALM): they reorder what is shown,
 * so a server's prompt could display as something it does not say (Trojan Source, CVE-2021-42574).
 */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` without escape sequences, control characters or bidi controls; tab and newline stay. */
export function stripControls(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL, '').replace(BIDI, '');
}
