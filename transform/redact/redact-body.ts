import { bodyText, contentTypeOf, isFormContentType, isJsonContentType, type ExchangeEditor, type Side } from '../exchange-editor.js';
import { encodeParam, formatParams, parseParams } from '../http-values.js';
import { formatMarkPath, matchJsonPath } from '../json/json-path.js';
import { keyIsOneOf, scanJsonLazyPath } from '../json/json-lazy-path.js';
import { applyEdits, decodeJsonString, looksLikeJson, type TextEdit } from '../json/json-scanner.js';
import { isReplaceable, replaceFound, type Redactor } from './redactor.js';

/**
 * Body redaction. JSON bodies are edited in place through the scanner (so
 * they stay valid JSON, keep their formatting and their big integers); a
 * JSON-path match replaces the whole value with a JSON string, a detector
 * match replaces the secret inside a string (or turns a card-number number
 * into a string). Form bodies are edited field by field; other text bodies
 * by detector spans. Binary (base64) bodies are left alone.
 */

// A body's redaction marks are capped: a 10,000-element array of emails gives
// one mark per distinct path shape (indexes collapse to [*]), but keys can
// vary without bound, and a record must not grow without bound either.
const MAX_BODY_MARKS = 64;

export function redactBody(ed: ExchangeEditor, side: Side, r: Redactor): void {
  const text = bodyText(ed.body(side));
  if (text === null || text.length === 0) return;
  const ct = contentTypeOf(ed.headers(side));
  let next: string | null = null;
  const marks = new Set<string>();
  if (isFormContentType(ct)) {
    if (r.formFields.size > 0 || r.detectors) next = redactForm(text, r, marks);
  } else if (isJsonContentType(ct) || looksLikeJson(text)) {
    if (r.jsonPaths.length > 0 || r.detectors?.maybe(text)) next = redactJson(text, r, marks);
  } else if (r.detectors?.maybe(text)) {
    next = replaceFound(text, r, (kind) => r.count(`detector:${kind}`));
    if (next !== null) marks.add('');
  }
  if (next === null || next === text) return;
  ed.setBodyText(side, next);
  if (marks.size > MAX_BODY_MARKS) ed.mark(`${side}.body`);
  else for (const m of marks) ed.mark(m === '' ? `${side}.body` : `${side}.body.${m}`);
}

function mayHoldPathKey(text: string, r: Redactor): boolean {
  if (r.jsonPaths.length === 0) return false;
  if (r.jsonPathKeys === null || text.indexOf('\\') !== -1) return true;
  for (const quoted of r.jsonPathKeysQuoted) if (text.indexOf(quoted) !== -1) return true;
  return false;
}

function redactForm(text: string, r: Redactor, marks: Set<string>): string | null {
  const params = parseParams(text);
  let changed = false;
  for (const p of params) {
    if (p.rawValue === null) continue;
    let value: string | null = null;
    if (r.formFields.has(p.name.toLowerCase())) {
      if (isReplaceable(p.value, r)) {
        value = r.replacer.replace(p.value);
        r.count('formField');
      }
    } else if (r.detectors) {
      value = replaceFound(p.value, r, (kind) => r.count(`detector:${kind}`));
    }
    if (value === null) continue;
    p.rawValue = encodeParam(value);
    marks.add(`form.${p.name}`);
    changed = true;
  }
  return changed ? formatParams(params) : null;
}

function redactJson(text: string, r: Redactor, marks: Set<string>): string | null {
  const edits: TextEdit[] = [];
  const counts: string[] = [];
  // Where in the body a detector might match: values that contain none of these are not looked at.
  const hints = r.detectors ? r.detectors.hints(text) : [];
  const detectors = hints.length > 0 ? r.detectors : null;
  // Nothing a detector could match, and none of the paths' last keys written in the body: the scan
  // would find nothing. (A key written with escapes, `"em\u0061il"`, has a backslash: then scan.)
  if (!detectors && !mayHoldPathKey(text, r)) return null;
  let h = 0;
  const keys = r.jsonPathKeySet;
  const mayEscape = text.indexOf('\\') !== -1;
  const byPath = r.jsonPaths.length > 0;
  // The scan builds a value's path only when asked: for a value under one of the paths' last keys
  // (every value, when a path ends in a wildcard), or one a detector hint points into.
  const result = scanJsonLazyPath(
    text,
    (kind, start, end, keyStart, keyEnd, scan) => {
      if (byPath && (keys === null || (keyStart >= 0 && keyIsOneOf(text, keyStart, keyEnd, keys, mayEscape)))) {
        const path = scan.path();
        for (const jp of r.jsonPaths) {
          if (!matchJsonPath(jp, path)) continue;
          const raw = text.slice(start, end);
          if (raw === 'null') return;
          const secret = kind === 'string' ? decodeJsonString(text, start, end) : raw;
          if (!isReplaceable(secret, r)) return;
          edits.push({ start, end, text: JSON.stringify(r.replacer.replace(secret)) });
          counts.push('jsonPath');
          marks.add(formatMarkPath(path));
          return;
        }
      }
      if (!detectors || (kind !== 'string' && kind !== 'number') || end - start < 6) return;
      while (h < hints.length && hints[h]! < start) h++;
      if (h === hints.length || hints[h]! >= end) return;
      const value = kind === 'string' ? decodeJsonString(text, start, end) : text.slice(start, end);
      const next = replaceFound(value, r, (kind) => void counts.push(`detector:${kind}`));
      if (next === null) return;
      edits.push({ start, end, text: JSON.stringify(next) });
      marks.add(formatMarkPath(scan.path()));
    },
    detectors
      ? (start, end, scan) => {
          while (h < hints.length && hints[h]! < start) h++;
          if (h === hints.length || hints[h]! >= end) return;
          const key = decodeJsonString(text, start, end);
          const next = replaceFound(key, r, (kind) => void counts.push(`detector:${kind}`));
          if (next === null) return;
          edits.push({ start, end, text: JSON.stringify(next) });
          marks.add(formatMarkPath(scan.path().slice(0, -1)));
        }
      : undefined,
  );
  if (result === 'invalid') {
    // Not JSON after all: redact it as text.
    marks.clear();
    if (!detectors) return null;
    const next = replaceFound(text, r, (kind) => r.count(`detector:${kind}`));
    if (next !== null) marks.add('');
    return next;
  }
  for (const c of counts) r.count(c);
  let next = applyEdits(text, edits);
  if (result === 'truncated' && detectors) {
    // The cut-off tail (a half string, a half number) was not visited as a value.
    const tail = replaceFound(next, r, (kind) => r.count(`detector:${kind}`));
    if (tail !== null) {
      next = tail;
      marks.add('');
    }
  }
  return next;
}
