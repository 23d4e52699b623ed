import { LineCounter, parseDocument, type Document } from 'yaml';

/**
 * YAML text parsed the way every reprise file loader reads it (transforms, scenarios, rate
 * profiles, diff rules): positions counted for `file:line:col` messages, problems collected in
 * `doc.errors` / `doc.warnings` (nothing thrown or logged, so a loader can report them all),
 * duplicate keys and the YAML 1.2 spec's strict checks treated as errors.
 *
 * @example
 * const { doc, lineCounter } = parseYamlDocument('steps: []\n');
 * for (const e of doc.errors) console.error(lineCounter.linePos(e.pos[0]), e.message);
 */
export function parseYamlDocument(text: string): { doc: Document.Parsed; lineCounter: LineCounter } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, logLevel: 'error', uniqueKeys: true, strict: true });
  return { doc, lineCounter };
}
