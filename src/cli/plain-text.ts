/**
 * Text that goes into plain-text output (one record per line, fields split by tabs or spaces): an action or a
 * sequence id may hold any string (JSON lines can carry newlines, tabs and other control characters), and one raw
 * newline would split a record in two. Control characters are written as escapes instead: \n, \r, \t, and \uXXXX
 * for the others (C0, DEL, C1, and the Unicode line and paragraph separators). `--json` gives the exact strings.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function plainText(text: string): string {
  return text.replace(CONTROL, (character) =>
    Object.hasOwn(NAMED, character) ? NAMED[character] : `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
