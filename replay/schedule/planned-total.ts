import type { ExchangeFilter } from '../../store/exchange-filter.js';
import { listSegments } from '../../store/segment-reader.js';
import { methodNameAllowed, type TargetPolicy } from '../safety/target-policy.js';
import { pieceSends, profilePieces, type RateProfile } from './rate-profile.js';
import type { PlanOptions } from './replay-plan.js';

/**
 * How many sends a plan holds, without walking it, for the progress bar.
 * Walking the plan reads the whole store (minutes for 10^7 exchanges), which
 * a run only pays for `--report`; the progress line must not depend on it.
 * The count is cheap where it follows from the options and the manifests:
 *
 * - a profile: the integral of its rate (up to `maxDurationMs`), as
 *   profileSendTimesUs places one send per whole unit of it;
 * - a recording without loop, time limit or filters, all segments sealed:
 *   the manifests' exchange counts, less excluded methods, times `amplify`.
 *
 * Otherwise (a loop, `--duration`, filters, a store still being written, S3)
 * it is undefined and the line shows counts without a bar.
 *
 * @example
 * const total = await quickPlannedTotal({ store: './store', amplify: 3 }); // 3 × the exchanges in the manifest
 */
export async function quickPlannedTotal(o: PlanOptions & TargetPolicy & { store: string; filter?: ExchangeFilter }): Promise<number | undefined> {
  if (o.profile) return profileSends(o.profile, o.maxDurationMs);
  if (o.loop || o.maxDurationMs !== undefined || (o.filter && Object.keys(o.filter).length > 0) || o.store.startsWith('s3://')) return undefined;
  let exchanges = 0;
  for (const seg of await listSegments(o.store)) {
    if (!seg.entry) return undefined; // an unsealed segment has no counts yet
    for (const [method, n] of Object.entries(seg.entry.stats.methods ?? {})) if (methodNameAllowed(method, o)) exchanges += n;
  }
  return exchanges * (o.amplify ?? 1);
}

/** Sends k = 0, 1, … go where the rate's integral reaches k: ⌈integral⌉ of them (±1 at a cut-off). */
function profileSends(p: RateProfile, maxDurationMs: number | undefined): number {
  const endS = maxDurationMs === undefined ? Infinity : maxDurationMs / 1000;
  let total = 0;
  for (const x of profilePieces(p)) {
    const t = Math.min(x.durationS, endS - x.startS);
    if (t <= 0) break;
    total += pieceSends(x, t);
  }
  return Math.ceil(total - 1e-9);
}
