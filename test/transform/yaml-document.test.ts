import { describe, expect, it } from 'vitest';
import { parseYamlDocument } from '../../transform/config/yaml-document.js';
import { sourcesContaining } from '../support/source-files.js';

describe('parseYamlDocument', () => {
  it('collects problems with positions instead of throwing: duplicate keys and strict-mode errors', () => {
    const { doc, lineCounter } = parseYamlDocument('a: 1\nb: 2\na: 3\n');
    expect(doc.errors.map((e) => [e.code, lineCounter.linePos(e.pos[0]).line])).toEqual([['DUPLICATE_KEY', 3]]);
    expect(parseYamlDocument('k: [a, b\n').doc.errors.length).toBeGreaterThan(0);
    expect(parseYamlDocument('steps:\n  - type: filter\n').doc.toJS()).toEqual({ steps: [{ type: 'filter' }] });
  });

  it('is the one place YAML files are parsed (transforms, scenarios, rate profiles, diff rules)', async () => {
    expect(await sourcesContaining('parseDocument(')).toEqual(['transform/config/yaml-document.ts']);
  });
});
