/** Text into XML, SVG and HTML (junit.xml, report.html): one escaping for all three. */

/**
 * Escapes text for XML attributes and content, and replaces what XML 1.0 cannot
 * hold at all (most control characters, lone surrogates) with U+FFFD — an endpoint name
 * from a capture can contain anything.
 */
export function escapeXml(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}
