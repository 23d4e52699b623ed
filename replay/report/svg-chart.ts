/**
 * Line charts as inline SVG, generated here rather than by a charting library
 * in the page: the report must open offline, from a CI artifact, years later,
 * and a server-side SVG has nothing to load or execute.
 */
import { escapeXml } from './escape-xml.js';

export interface ChartSeries {
  name: string;
  color: string;
  /** [x, y] in data units; NaN y leaves a gap. */
  points: readonly (readonly [number, number])[];
  dashed?: boolean;
}

export interface LineChartSpec {
  id: string;
  title: string;
  series: readonly ChartSeries[];
  xLabel: string;
  yLabel: string;
  formatX: (x: number) => string;
  formatY: (y: number) => string;
  /** Explicit x ticks (value, label), e.g. for a percentile axis; nice ticks otherwise. */
  xTicks?: readonly (readonly [number, string])[];
  width?: number;
  height?: number;
}

// Top margin holds the title and a one-row legend under it; right margin the last x label.
const MARGIN = { top: 50, right: 36, bottom: 44, left: 72 };
// Markers only while they stay readable; past this a series is its line alone.
const MAX_MARKERS = 150;

/** 1-2-5 steps: ticks people can read at a glance. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  // 3 × 0.2 is 0.6000000000000001 in binary floating point: round to the step's own decimals.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number((Math.round(v / step) * step).toFixed(decimals)));
  return ticks;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/**
 * @example
 * const svg = lineChart({ id: 'rate', title: 'Rate', series: [{ name: 'sent', color: '#1f77b4', points: [[0, 10], [1, 12]] }],
 *   xLabel: 's', yLabel: 'req/s', formatX: String, formatY: String });
 */
export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 860;
  const height = spec.height ?? 280;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const all = spec.series.flatMap((s) => s.points.filter(([, y]) => Number.isFinite(y)));
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  let xMin = xs.length ? Math.min(...xs) : 0;
  let xMax = xs.length ? Math.max(...xs) : 1;
  if (spec.xTicks && spec.xTicks.length > 0) {
    xMin = Math.min(xMin, ...spec.xTicks.map(([v]) => v));
    xMax = Math.max(xMax, ...spec.xTicks.map(([v]) => v));
  }
  if (xMax === xMin) xMax = xMin + 1;
  const yTicks = niceTicks(0, ys.length ? Math.max(...ys) : 1);
  const yMax = Math.max(yTicks[yTicks.length - 1] ?? 1, ys.length ? Math.max(...ys) : 1, 1e-9);
  const px = (x: number): number => MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number): number => MARGIN.top + plotH - (y / yMax) * plotH;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="${escapeXml(spec.id)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(spec.title)}">`);
  parts.push(`<text x="${MARGIN.left}" y="20" class="chart-title">${escapeXml(spec.title)}</text>`);
  // Grid and axes.
  for (const t of yTicks) {
    const y = fmt(py(t));
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}"/>`);
    parts.push(`<text class="tick" x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(spec.formatY(t))}</text>`);
  }
  const xTicks = spec.xTicks ?? niceTicks(xMin, xMax, 8).map((v) => [v, spec.formatX(v)] as const);
  for (const [v, label] of xTicks) {
    const x = fmt(px(v));
    parts.push(`<line class="grid" x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}"/>`);
    parts.push(`<text class="tick" x="${x}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(label)}</text>`);
  }
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}"/>`);
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}"/>`);
  parts.push(`<text class="axis-label" x="${MARGIN.left + plotW / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  parts.push(`<text class="axis-label" transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);

  // Series: one path each (gaps split it), markers with a hover title when few enough.
  let legendX = MARGIN.left;
  spec.series.forEach((s) => {
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${fmt(px(x))} ${fmt(py(y))} `;
      pen = true;
    }
    if (d !== '') {
      parts.push(`<path class="series" data-series="${escapeXml(s.name)}" d="${d.trim()}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    }
    const finite = s.points.filter(([, y]) => Number.isFinite(y));
    if (finite.length <= MAX_MARKERS) {
      parts.push(`<g class="markers" fill="${s.color}">`);
      for (const [x, y] of finite) {
        parts.push(`<circle class="point" cx="${fmt(px(x))}" cy="${fmt(py(y))}" r="2.5"><title>${escapeXml(`${s.name} at ${spec.formatX(x)}: ${spec.formatY(y)}`)}</title></circle>`);
      }
      parts.push('</g>');
    }
    // Legend: one row under the title, entries sized by their text (~6.5 px per character at 11 px).
    const ly = 34;
    parts.push(`<line x1="${legendX}" x2="${legendX + 18}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text class="legend" x="${legendX + 24}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
    legendX += 24 + Math.ceil(s.name.length * 6.5) + 18;
  });
  if (all.length === 0) {
    parts.push(`<text class="empty" x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH / 2}" text-anchor="middle">no data</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

export interface StackSegment {
  name: string;
  value: number;
  color: string;
}

/** A single horizontal bar split by share (the status mix). */
export function stackedBar(id: string, title: string, segments: readonly StackSegment[], width = 860): string {
  const height = 84;
  const barW = width - 32;
  const total = segments.reduce((n, s) => n + s.value, 0);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="${escapeXml(id)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">`];
  parts.push(`<text x="16" y="18" class="chart-title">${escapeXml(title)}</text>`);
  let x = 16;
  let lx = 16;
  for (const s of segments) {
    if (s.value <= 0) continue;
    const w = total > 0 ? (s.value / total) * barW : 0;
    const share = total > 0 ? ((s.value / total) * 100).toFixed(2) : '0';
    parts.push(`<rect class="bar" x="${fmt(x)}" y="28" width="${Math.max(w, 1).toFixed(1)}" height="24" fill="${s.color}"><title>${escapeXml(`${s.name}: ${s.value} (${share}%)`)}</title></rect>`);
    x += w;
    parts.push(`<rect x="${lx}" y="62" width="10" height="10" fill="${s.color}"/><text class="legend" x="${lx + 14}" y="71">${escapeXml(`${s.name} ${share}%`)}</text>`);
    lx += 130;
  }
  if (total === 0) parts.push(`<text class="empty" x="${width / 2}" y="44" text-anchor="middle">no responses</text>`);
  parts.push('</svg>');
  return parts.join('');
}
