// What the CLI prints of community text goes through here: a message can carry terminal escape
// sequences (colours, cursor moves, window titles, hyperlinks, "clear screen") or a carriage return that
// overwrites the line before it. Printed raw, they act on the reader's terminal.

// ESC-introduced sequences: CSI (ESC [ ... final byte), OSC/DCS/APC/PM/SOS strings (up to BEL or ST),
// and two-byte escapes; then the 8-bit C1 forms (U+009B CSI, U+009D OSC, ...).
const ESCAPE_SEQUENCE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b[\]PX^_][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[@-Z\\-_]?|\u009b[0-?]*[ -/]*[@-~]|[\u0090\u0098\u009d\u009e\u009f][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?/g;
// C0 controls but tab and newline, DEL, and C1 controls.
// eslint-disable-next-line no-control-regex -- as above
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `s` without terminal escape sequences and control characters (tabs and newlines kept). */
export function terminalSafe(s: string): string {
  return s.replace(ESCAPE_SEQUENCE, '').replace(CONTROL, '');
}

/** console.log of a line made of community text, made terminal-safe. */
export function printSafe(line: string): void {
  console.log(terminalSafe(line));
}

/**
 * JSON for stdout: JSON.stringify escapes C0 controls already, not DEL or C1 ones (U+009B is a CSI to
 * many terminals): those are written as \u escapes too, so the JSON still says what the text held.
 */
export function jsonSafe(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
