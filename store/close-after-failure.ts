import { RepriseError } from '../errors.js';

/** What can be closed after a failed command: a store writer, or a recorder in front of one. */
export interface ClosableAfterError {
  /** Close; a store that opening created and nothing was written to is removed again. */
  closeAfterError(): Promise<unknown>;
}

/**
 * Close `writer` after the command writing `store` failed with `err`, and return the error to
 * throw. That is always the command's own error: when closing fails too (a full disk, a store
 * removed under the writer), the close error is a consequence, and reported alone it would hide
 * why the command stopped. It is said in the message, with the warning that the last records may
 * be missing. Import, capture and replay --record-out all close through here.
 *
 * @example
 * try { for await (const ex of source) await writer.write(ex); }
 * catch (err) { throw await closeAfterFailure(writer, err, './store'); }
 */
export async function closeAfterFailure(writer: ClosableAfterError, err: unknown, store: string): Promise<unknown> {
  try {
    await writer.closeAfterError();
  } catch (closeErr) {
    return alsoNotClosed(err, closeErr, store);
  }
  return err;
}

/**
 * The command's error, saying the store could not be closed after it either. A RepriseError keeps
 * its code and place (and is the new one's cause). Anything else is a bug or an error no source
 * wrapped: its own object is kept — identity, `code`, and the stack of where it was thrown are what
 * a bug report needs — and the note is added to its message. A thrown non-Error becomes the cause
 * of an Error carrying the note.
 */
function alsoNotClosed(err: unknown, closeErr: unknown, store: string): unknown {
  const why = closeErr instanceof Error ? closeErr.message : String(closeErr);
  const note = `and ${store} could not be closed after it (${why}): the last records may be missing`;
  if (err instanceof RepriseError) return new RepriseError(err.code, `${err.message}; ${note}`, { cause: err, location: err.location ?? { file: store } });
  if (err instanceof Error) {
    try {
      err.message = `${err.message}; ${note}`;
      return err;
    } catch {
      // A frozen error: wrapped instead, so the note is not lost.
    }
  }
  return new Error(`${err instanceof Error ? err.message : String(err)}; ${note}`, { cause: err });
}
