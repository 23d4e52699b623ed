import { benchExchange } from '../../bench/transform-records.js';

/**
 * JSON texts the fast scanners (json-leaves.ts, json-lazy-path.ts) are held equal to scanJson on:
 * valid bodies of every shape (escaped, quoted and duplicated keys, whitespace, top-level scalars,
 * the benchmark's API bodies), and hostile text (invalid, cut off, nested 50,000 deep).
 */
export const JSON_SAMPLES = [
  '{"a": [1, "x\\"y", {"b": null, "c": -2.5e3}], "big": 12345678901234567890, "t": true, "f": false}',
  '[{"id": 7, "tags": ["x", ["deep", 3]]}, "top", 4, {}, [], {"e": {}}, {"k\\u0065y": "v"}]',
  '{"items":[{"orderId":"ord_1","qty":2},{"orderId":"ord_2","qty":1}],"links":{"self":"/x/1"},"": "empty key"}',
  ' \n\t{ "sp" :\t"aced" , "arr" : [ 1 , 2 ] } \n',
  '{"a":{"a":{"b":1},"b":[{"a":2}]},"a\\"q":"quote in key","a\\\\":"backslash in key","dup":1,"dup":2}',
  '"just a string"',
  '42',
  benchExchange(300).response!.body!.data,
  benchExchange(307).response!.body!.data,
  benchExchange(305).response!.body!.data,
];

/** Samples whose every prefix is scanned too (a truncated body must stop where scanJson stops). */
export const PREFIX_SAMPLES = [...JSON_SAMPLES.slice(0, 5), JSON_SAMPLES[7]!];

export const HOSTILE_JSON = [
  '{"a" 1}', '{"a": 1} x', '', '<html>', '{"a": tr', '{"a": [1, 2', '{"a":,}', '{,"a":1}', '[1,,2]', '{"a":1,}', '{"a":"b"]',
  '{"x": [1}', '{"unterminated', '{"a": "\\"', '['.repeat(50_000), `${'['.repeat(1000)}"x"${']'.repeat(999)}`, '{"a": -}', '{"a": 1e}',
  '{"a": nul',
];
