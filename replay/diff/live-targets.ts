import { RepriseError } from '../../errors.js';

/**
 * The only places a live diff sends to: the URLs the user gave, nothing else —
 * never the recorded host, never a redirect. Validated once, up front.
 */

export interface LiveTarget {
  role: 'baseline' | 'candidate' | 'baseline2';
  /** `http://host:port`, what the connection pool opens. */
  origin: string;
  /** Path prefix the target is mounted under ('' or `/v2`), prepended to every recorded path. */
  basePath: string;
  /** The URL as given, for reports (never holds credentials: those are refused). */
  label: string;
}

export function parseLiveTarget(role: LiveTarget['role'], text: string): LiveTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch (err) {
    throw new RepriseError('DIFF_TARGET_INVALID', `--${role} "${text}": not a URL (expected http://host:port[/prefix])`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RepriseError('DIFF_TARGET_INVALID', `--${role} "${text}": only http and https targets are supported`);
  }
  if (url.username || url.password) {
    throw new RepriseError('DIFF_TARGET_INVALID', `--${role}: credentials in the URL are refused (they would reach logs and reports); send them as recorded headers instead`);
  }
  if (url.search || url.hash) throw new RepriseError('DIFF_TARGET_INVALID', `--${role} "${text}": a target URL takes no query or fragment`);
  const basePath = url.pathname.replace(/\/+$/, '');
  return { role, origin: url.origin, basePath, label: `${url.origin}${basePath}` };
}

/** The three targets must be distinct where it matters: comparing a service with itself proves nothing. */
export function checkTargetSet(baseline: LiveTarget, candidate: LiveTarget, baseline2?: LiveTarget): void {
  if (baseline.label === candidate.label) {
    throw new RepriseError('DIFF_TARGET_INVALID', `--baseline and --candidate are the same URL (${baseline.label}); a diff needs two releases`);
  }
  if (baseline2 && baseline2.label === candidate.label) {
    throw new RepriseError('DIFF_TARGET_INVALID', `--baseline2 is the candidate (${candidate.label}); it must run the baseline release`);
  }
}
