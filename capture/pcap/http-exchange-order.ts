import type { Exchange } from '../../store/exchange.js';

/**
 * Puts exchanges from many connections back into start-time order, within a
 * bounded window. The assembler emits an exchange when its response ends, so
 * a long exchange comes out after shorter ones that started later. This
 * buffer holds exchanges in a min-heap on `start` and releases one once an
 * exchange starting `windowUs` later has been seen (or when `maxBuffered` is
 * reached). An exchange that arrives after a later-starting one was already
 * released is passed on at once and counted in `late`.
 */

export interface StartOrderOptions {
  /** Default 30 s of capture time: longer than almost every request/response. */
  windowUs?: number;
  /** Default 1,000 exchanges — more than a capture has in flight at once — so the buffer stays bounded whatever the window. */
  maxBuffered?: number;
  /**
   * Default 16 MiB of stored body bytes held, so big responses cannot make the
   * buffer grow toward maxBuffered × bodyCap. Crossing it releases the oldest
   * early (it may then come out late, and is counted).
   */
  maxBufferedBytes?: number;
}

export interface StartOrderBuffer {
  push(ex: Exchange): void;
  /** Release everything still held, in order (call after the assembler's end()). */
  flush(): void;
  /** Exchanges that came out of order despite the window. */
  readonly late: number;
  readonly buffered: number;
  readonly bufferedBytes: number;
}

/**
 * @example
 * const ordered = orderByStart((ex) => writer.write(ex), { windowUs: 30_000_000 });
 * const asm = new HttpExchangeAssembler({ captureId }, (ex) => ordered.push(ex));
 * for (const seg of segments) asm.push(seg);
 * asm.end();
 * ordered.flush();
 */
export function orderByStart(emit: (ex: Exchange) => void, options: StartOrderOptions = {}): StartOrderBuffer {
  const windowUs = options.windowUs ?? 30_000_000;
  const maxBuffered = options.maxBuffered ?? 1_000;
  const maxBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  let bytes = 0;
  const heap: Held[] = [];
  let arrivals = 0;
  let maxStart = -Infinity;
  let lastReleased = -Infinity;
  let late = 0;

  const release = (): void => {
    const { ex, size } = popMin(heap);
    bytes -= size;
    lastReleased = ex.start;
    emit(ex);
  };

  return {
    push(ex) {
      if (ex.start < lastReleased) {
        late++;
        emit(ex);
        return;
      }
      const size = heldBytes(ex);
      bytes += size;
      pushHeap(heap, { ex, n: arrivals++, size });
      if (ex.start > maxStart) maxStart = ex.start;
      while (heap.length > 0 && (heap[0]!.ex.start <= maxStart - windowUs || heap.length > maxBuffered || bytes > maxBytes)) release();
    },
    flush() {
      while (heap.length > 0) release();
    },
    get late() {
      return late;
    },
    get buffered() {
      return heap.length;
    },
    get bufferedBytes() {
      return bytes;
    },
  };
}

/** Arrival number breaks ties, so equal starts keep their emission order (a connection's request order). */
interface Held {
  ex: Exchange;
  n: number;
  /** Approximate bytes the held record keeps alive (bodies dominate). */
  size: number;
}

function heldBytes(ex: Exchange): number {
  return 1024 + (ex.request?.body?.data.length ?? 0) + (ex.response?.body?.data.length ?? 0);
}

function before(a: Held, b: Held): boolean {
  return a.ex.start < b.ex.start || (a.ex.start === b.ex.start && a.n < b.n);
}

function pushHeap(h: Held[], item: Held): void {
  h.push(item);
  let i = h.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(item, h[parent]!)) break;
    h[i] = h[parent]!;
    i = parent;
  }
  h[i] = item;
}

function popMin(h: Held[]): Held {
  const top = h[0]!;
  const last = h.pop()!;
  if (h.length === 0) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= h.length) break;
    const r = l + 1;
    const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
    if (!before(h[c]!, last)) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = last;
  return top;
}
