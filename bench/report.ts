// `npm run bench -- report [--results DIR] [--out DIR]`: renders every bench/results/*.json
// into bench/REPORT.md, with charts as hand-written SVG files in bench/report/: latency
// percentiles as horizontal bars (log scale, goal as a red mark), time series as lines.
// Every goal is checked against its row (≤ N, ≥ N, or = N); the machine and date are on top.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Percentiles, Row, Series } from './lib.ts';

interface Result {
  name: string; date: string; node?: string; machine?: Record<string, unknown>; quick?: boolean;
  rows: Row[]; percentiles?: Percentiles[]; series?: Series[];
  /** Markdown added by hand to a result: why a goal was missed, by how much. */
  notes?: string;
  [k: string]: unknown;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number) => (!Number.isFinite(v) ? String(v) : Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(Math.abs(v) >= 10 ? 1 : 2));

/** A goal like "≤ 100 ms", "≥ 3000/s", "0" → a check; undefined when it names no number. */
export function checkGoal(goal: string | undefined, value: number): boolean | undefined {
  if (!goal) return undefined;
  const m = /^\s*(≤|<=|≥|>=|=)?\s*([\d,.]+)/.exec(goal);
  if (!m) return undefined;
  const n = Number(m[2]!.replace(/,/g, ''));
  if (!Number.isFinite(n)) return undefined;
  if (m[1] === '≤' || m[1] === '<=') return value <= n;
  if (m[1] === '≥' || m[1] === '>=') return value >= n;
  return value === n;
}

/** Horizontal bars: per operation p50 / p90 / p99 / max on a log axis, goal as a red tick. */
export function barChart(title: string, items: Percentiles[]): string {
  const keys = ['p50', 'p90', 'p99', 'max'] as const;
  const colors = ['#4c78a8', '#72b7b2', '#f58518', '#bab0ac'];
  const label = 260, plot = 460, barH = 9, gap = 10, top = 40;
  const vals = items.flatMap((i) => [...keys.map((k) => i[k]), i.goal ?? NaN]).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...vals, 1))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...vals, 10))));
  const x = (v: number) => label + (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * plot;
  const groupH = keys.length * barH + gap;
  const h = top + items.length * groupH + 30;
  const w = label + plot + 70;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">`,
    `<rect width="${w}" height="${h}" fill="white"/>`, `<text x="8" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`];
  keys.forEach((k, i) => out.push(`<rect x="${label + i * 60}" y="24" width="10" height="10" fill="${colors[i]}"/><text x="${label + i * 60 + 14}" y="33">${k}</text>`));
  out.push(`<rect x="${label + 250}" y="24" width="3" height="10" fill="#d62728"/><text x="${label + 258}" y="33">goal</text>`);
  for (let d = lo; d <= hi; d *= 10) {
    out.push(`<line x1="${x(d)}" x2="${x(d)}" y1="${top - 2}" y2="${h - 24}" stroke="#ddd"/><text x="${x(d)}" y="${h - 10}" text-anchor="middle">${fmt(d)}</text>`);
  }
  items.forEach((it, gi) => {
    const y0 = top + gi * groupH;
    out.push(`<text x="${label - 6}" y="${y0 + groupH / 2}" text-anchor="end">${esc(it.metric.length > 40 ? it.metric.slice(0, 39) + '…' : it.metric)} (${it.unit}, n=${it.count})</text>`);
    keys.forEach((k, i) => {
      const v = it[k];
      if (!Number.isFinite(v)) return;
      out.push(`<rect x="${label}" y="${y0 + i * barH}" width="${Math.max(1, x(v) - label)}" height="${barH - 1}" fill="${colors[i]}"/><text x="${x(v) + 3}" y="${y0 + i * barH + barH - 1}" font-size="9">${fmt(v)}</text>`);
    });
    if (it.goal !== undefined) out.push(`<rect x="${x(it.goal) - 1}" y="${y0 - 2}" width="3" height="${keys.length * barH + 2}" fill="#d62728"/>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** One line chart of a time series (seconds on x). */
export function lineChart(s: Series): string {
  const w = 620, h = 200, l = 60, r = 15, t = 28, b = 30;
  const pts = s.points.filter(([a, v]) => Number.isFinite(a) && Number.isFinite(v));
  const maxX = Math.max(1, ...pts.map(([a]) => a));
  const maxY = Math.max(1, ...pts.map(([, v]) => v)) * 1.1;
  const x = (a: number) => l + (a / maxX) * (w - l - r);
  const y = (v: number) => h - b - (v / maxY) * (h - t - b);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">`,
    `<rect width="${w}" height="${h}" fill="white"/>`, `<text x="8" y="16" font-size="13" font-weight="bold">${esc(s.metric)} (${esc(s.unit)})</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = (maxY / 4) * i;
    out.push(`<line x1="${l}" x2="${w - r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${l - 4}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
    const a = (maxX / 4) * i;
    out.push(`<text x="${x(a)}" y="${h - 12}" text-anchor="middle">${fmt(a)} s</text>`);
  }
  out.push(`<polyline fill="none" stroke="#4c78a8" stroke-width="1.5" points="${pts.map(([a, v]) => `${x(a).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
  out.push('</svg>');
  return out.join('\n');
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, strict: true, options: { results: { type: 'string' }, out: { type: 'string' } } });
  const here = import.meta.dirname;
  const resultsDir = values.results ?? process.env.SKIFF_BENCH_RESULTS_DIR ?? path.join(here, 'results');
  const outDir = values.out ?? here;
  const chartDir = path.join(outDir, 'report');
  rmSync(chartDir, { recursive: true, force: true });
  mkdirSync(chartDir, { recursive: true });
  const results: Result[] = [];
  for (const f of readdirSync(resultsDir).filter((f) => f.endsWith('.json')).sort()) {
    try {
      const r = JSON.parse(readFileSync(path.join(resultsDir, f), 'utf8')) as Result;
      if (typeof r.name !== 'string' || !Array.isArray(r.rows)) throw new Error('no name or rows');
      results.push(r);
    } catch (err) { console.error(`report: skipping ${f}: ${(err as Error).message}`); }
  }
  const md: string[] = ['# Benchmark report', '',
    `Rendered ${new Date().toISOString()} by \`npm run bench -- report\` from \`${path.relative(process.cwd(), resultsDir) || '.'}/*.json\`.`,
    `This machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GB memory, Linux ${os.release()}, Node ${process.version}.`,
    'Each section names the machine and load average its run saw; runs share the machine with whatever else ran then, so compare within a run first.', '',
    '## Goals at a glance', '', '| bench | metric | ours | goal | |', '|---|---|---|---|---|'];
  for (const r of results) {
    for (const row of r.rows) {
      const ok = checkGoal(row.goal, row.value);
      if (row.goal) md.push(`| ${r.name}${r.quick ? ' (quick)' : ''} | ${row.metric} | ${fmt(row.value)} ${row.unit} | ${row.goal} | ${ok === undefined ? '' : ok ? '✅' : '❌'} |`);
    }
  }
  md.push('');
  for (const r of results) {
    const m = r.machine ?? {};
    md.push(`## ${r.name}`, '', `Run ${r.date}${r.quick ? ' with `--quick`' : ''}` +
      (r.machine ? `; ${m.cores} cores, ${m.memoryMb} MB, kernel ${m.kernel}, Node ${m.node}, load average ${(m.load as number[] | undefined)?.join(' / ') ?? '?'} at the end` : `; Node ${r.node ?? '?'}`) + '.', '');
    const params = Object.entries(r).filter(([k, v]) => !['name', 'date', 'node', 'machine', 'rows', 'percentiles', 'series', 'perCall', 'samples', 'quick', 'notes'].includes(k) && (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean'));
    if (params.length) md.push(`Parameters: ${params.map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`).join(', ')}.`, '');
    md.push('| metric | value | unit | goal | |', '|---|---:|---|---|---|');
    for (const row of r.rows) {
      const ok = checkGoal(row.goal, row.value);
      md.push(`| ${row.metric} | ${fmt(row.value)} | ${row.unit} | ${row.goal ?? ''} | ${ok === undefined ? '' : ok ? '✅' : '❌'} |`);
    }
    md.push('');
    // What a person who ran it found: why a goal was missed (a result's optional `notes`).
    if (typeof r.notes === 'string' && r.notes.trim()) md.push(r.notes.trim(), '');
    // Bars: the JSON's percentiles, or else its rows in ms (each as one bar).
    const bars: Percentiles[] = r.percentiles?.length ? r.percentiles.filter((p) => p.count > 0)
      : r.rows.filter((row) => row.unit === 'ms' && Number.isFinite(row.value)).map((row) => {
        const g = /^\s*(?:≤|<=)\s*([\d,.]+)/.exec(row.goal ?? '');
        return { metric: row.metric, unit: 'ms', count: 1, p50: row.value, p90: NaN, p99: NaN, max: NaN, ...(g ? { goal: Number(g[1]!.replace(/,/g, '')) } : {}) };
      });
    if (bars.length) {
      const file = `${slug(r.name)}-latency.svg`;
      writeFileSync(path.join(chartDir, file), barChart(`${r.name}: ${r.percentiles?.length ? 'latency percentiles' : 'times (ms)'}`, bars));
      md.push(`![${r.name} latency](report/${file})`, '');
    }
    for (const s of r.series ?? []) {
      if (!s.points?.length) continue;
      const file = `${slug(r.name)}-${slug(s.metric)}.svg`;
      writeFileSync(path.join(chartDir, file), lineChart(s));
      md.push(`![${r.name} ${s.metric}](report/${file})`);
    }
    if (r.series?.length) md.push('');
  }
  const file = path.join(outDir, 'REPORT.md');
  writeFileSync(file, md.join('\n'));
  console.log(`report: ${results.length} results → ${path.relative(process.cwd(), file)}, charts in ${path.relative(process.cwd(), chartDir)}/`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
