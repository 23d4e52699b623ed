import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { ConfigPath } from './field-spec.js';

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

/**
 * `file:line:col` of a config path in a parsed document (of its key with `atKey`), for problem
 * messages; the file name alone when the path is not in the document.
 *
 * @example
 * const locate = yamlLocator(doc, lineCounter, 'transforms.yaml');
 * locate(['steps', 0, 'type'], false); // 'transforms.yaml:2:11'
 */
export function yamlLocator(doc: Document, lc: LineCounter, name: string): (path: ConfigPath, atKey: boolean) => string | undefined {
  return (path, atKey) => {
    let node: unknown = doc.contents;
    let range: readonly number[] | undefined = (node as YamlNode | null)?.range ?? undefined;
    for (let i = 0; i < path.length; i++) {
      const p = path[i]!;
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((it) => (isScalar(it.key) ? String(it.key.value) : String(it.key)) === String(p));
        if (!pair) break;
        const keyRange = (pair.key as YamlNode | null)?.range;
        if (last && atKey && keyRange) {
          range = keyRange;
          break;
        }
        node = pair.value;
        range = (node as YamlNode | null)?.range ?? keyRange ?? range;
      } else if (isSeq(node) && typeof p === 'number') {
        node = node.items[p];
        range = (node as YamlNode | null)?.range ?? range;
      } else break;
    }
    if (!range) return name;
    const { line, col } = lc.linePos(range[0]!);
    return `${name}:${line}:${col}`;
  };
}
