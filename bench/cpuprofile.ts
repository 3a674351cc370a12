// Summarises a V8 .cpuprofile (node --cpu-prof): the top N functions by self time, and self time
// by where the code lives (ssh2's protocol, Node's streams, Tunnelvision, native/GC). Used by
// bench/main.ts for BENCHMARKS.md's "What limits it"; also runnable on its own:
//   node out/bench/bench/cpuprofile.js FILE.cpuprofile [N]
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Time the thread was busy (all but "(idle)"). */
  busyMs: number;
  top: SelfTime[];
  byArea: Array<{ area: string; ms: number; share: number }>;
}

/** Short, stable location: package-relative for node_modules, node:… for Node's own code. */
function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/** Coarse areas, so a reader sees at once whether crypto, framing, streams or our code dominate. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(idle)') return 'idle (waiting for I/O)';
    if (functionName === '(garbage collector)') return 'garbage collector';
    if (functionName === '(program)') return 'V8/libuv outside JS (syscalls, native)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  if (url.includes('ssh2/lib/protocol/crypto')) return 'ssh2 crypto wrappers (JS side)';
  if (url.includes('ssh2/lib/protocol')) return 'ssh2 packet framing/parsing';
  if (url.includes('ssh2/lib')) return 'ssh2 channels/client';
  if (url.includes('node_modules')) return 'other dependencies';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:stream')) return 'Node streams';
  if (url.startsWith('node:net') || url.startsWith('node:internal/stream_base') || url.startsWith('node:internal/net')) return 'Node net/socket';
  if (url.startsWith('node:internal/crypto') || url.startsWith('node:crypto')) return 'Node crypto (JS side)';
  if (url.startsWith('node:')) return 'other Node internals';
  if (url.includes('/dist/app/') || url.includes('/app/')) return 'Tunnelvision';
  return 'other';
}

export function summarise(profile: CpuProfile, topN = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // DevTools' attribution: the delta that follows a sample is the time spent in it.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  const byArea = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    totalUs += us;
    if (frame.functionName === '(idle)') idleUs += us;
    const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}\0${where}`;
    const entry = byFunction.get(key) ?? { name: frame.functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const area = areaOf(frame);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const share = (us: number) => (busyUs > 0 ? us / busyUs : 0);
  return {
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    top: [...byFunction.values()]
      .filter((f) => f.name !== '(idle)')
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: share(f.us) })),
    byArea: [...byArea.entries()]
      .filter(([area]) => !area.startsWith('idle'))
      .sort((a, b) => b[1] - a[1])
      .map(([area, us]) => ({ area, ms: us / 1000, share: share(us) })),
  };
}

export function readProfile(file: string): CpuProfile {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  unbundle(profile);
  return profile;
}

/**
 * The CLI runs as one bundled script (scripts/build-cli.mjs): its frames are put back where their
 * code comes from (ssh2's files, app/…) through the bundle's source map, so areas and places mean
 * the same as for the unbundled build.
 */
function unbundle(profile: CpuProfile): void {
  const maps = new Map<string, SourceMap | undefined>();
  for (const { callFrame: frame } of profile.nodes) {
    if (!frame.url.endsWith('.cjs')) continue;
    const file = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
    if (!maps.has(file)) maps.set(file, existsSync(`${file}.map`) ? new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))) : undefined);
    const entry = maps.get(file)?.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number } | undefined;
    if (!entry?.originalSource) continue;
    frame.url = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : resolve(dirname(file), entry.originalSource);
    frame.lineNumber = entry.originalLine ?? frame.lineNumber;
  }
}

/** Markdown: two tables, self time by function and by area, as shares of busy time. */
export function formatSummary(s: ProfileSummary): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  return [
    `Busy ${(s.busyMs / 1000).toFixed(2)} s of ${(s.totalMs / 1000).toFixed(2)} s sampled (the rest idle, waiting for I/O). Shares are of busy time.`,
    '',
    '| Self time | Share | Function | Where |',
    '| ---: | ---: | --- | --- |',
    ...s.top.map((f) => `| ${f.ms.toFixed(0)} ms | ${pct(f.share)} | \`${f.name}\` | ${f.where ? `\`${f.where}\`` : '–'} |`),
    '',
    '| Area | Self time | Share |',
    '| --- | ---: | ---: |',
    ...s.byArea.slice(0, 12).map((a) => `| ${a.area} | ${a.ms.toFixed(0)} ms | ${pct(a.share)} |`),
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, n] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node out/bench/bench/cpuprofile.js FILE.cpuprofile [N]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatSummary(summarise(readProfile(file), n ? Number(n) : 15)).join('\n')}\n`);
}
