// The plugin step of the transform benchmark: a typical small user plugin (tag each request).
import type { Exchange } from '../store/exchange.js';

export default function tagReplay(ex: Exchange): Exchange {
  return { ...ex, request: { ...ex.request, headers: [...ex.request.headers, ['X-Replay', 'bench']] } };
}
