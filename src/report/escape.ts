/**
 * Escaping for the report page. Action names and sequence ids come from the user's data, so every string that
 * reaches the page goes through one of these: text and attribute values (HTML and inline SVG alike), and JSON
 * embedded in a <script> element.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe inside element text and inside single- or double-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (character) => ENTITIES[character]);
}

/**
 * JSON for a `<script type="application/json">` element: `<` is written as \u003c so that no `</script>` or
 * `<!--` in the data can end the element early; U+2028/2029 are escaped for old JavaScript parsers.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
