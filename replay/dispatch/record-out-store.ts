import { RepriseError, isRepriseError } from '../../errors.js';
import { sameStore } from '../../store/same-store.js';
import { listSegments } from '../../store/segment-reader.js';

/**
 * Where `--record-out` may write, checked before anything is sent.
 *
 * A --record-out store is the output of one run, meant for `reprise diff`
 * against the recording or for a second replay; two runs in one store (say
 * against two targets) cannot be told apart there, and a replay of it then
 * meets both targets as "recorded hosts". So a store that already holds
 * exchanges is refused unless the caller asks to append. Capture commands
 * append to their --out store without asking because a recording grows over
 * sessions by design; a replay's record is one run.
 */
export interface RecordOutCheck {
  recordOut: string;
  /** The replayed store. */
  store: string;
  /** Add this run to a store that already holds exchanges. */
  append?: boolean;
}

/**
 * @example
 * await checkRecordOut({ recordOut: './replayed', store: './store' }); // throws STORE_EXISTS if ./replayed holds exchanges
 */
export async function checkRecordOut({ recordOut, store, append }: RecordOutCheck): Promise<void> {
  // The store is read lazily (and again each lap): replayed exchanges written into it would be replayed in turn.
  if (await sameStore(recordOut, store)) {
    throw new RepriseError('OUTPUT_UNWRITABLE', 'the --record-out store must not be the replayed store (it is read while replayed exchanges are written into it)', { location: { file: recordOut } });
  }
  if (append) return;
  const segments = await existingSegments(recordOut);
  if (segments > 0) {
    throw new RepriseError('STORE_EXISTS', `the --record-out store already holds exchanges (${segments} segment${segments === 1 ? '' : 's'}, from an earlier run?); choose a new store, or pass --append to add this run to it`, { location: { file: recordOut } });
  }
}

/** Segments in a store; 0 when there is no store there yet (the writer will create it). */
async function existingSegments(path: string): Promise<number> {
  try {
    return (await listSegments(path)).length;
  } catch (err) {
    if (isRepriseError(err) && err.code === 'STORE_NOT_FOUND') return 0;
    throw err;
  }
}
