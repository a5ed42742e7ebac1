import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MCP_HEADERS, ROOT, SECRET, machine, median, openSession, saveResult, startServer, token } from './harness';
import { modernCall } from './eras';

/** RSS over time as an SVG line chart (no dependencies). */
function svgPlot(samples: Array<{ t: number; rss: number }>, title: string): string {
  const w = 720;
  const h = 320;
  const pad = 48;
  const maxT = Math.max(...samples.map((s) => s.t), 1);
  const maxR = Math.max(...samples.map((s) => s.rss)) * 1.15;
  const x = (t: number) => pad + (t / maxT) * (w - 2 * pad);
  const y = (r: number) => h - pad - (r / maxR) * (h - 2 * pad);
  const points = samples.map((s) => `${x(s.t).toFixed(1)},${y(s.rss).toFixed(1)}`).join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const r = maxR * f;
    return `<line x1="${pad}" x2="${w - pad}" y1="${y(r)}" y2="${y(r)}" stroke="#ddd"/><text x="${pad - 6}" y="${y(r) + 4}" text-anchor="end" font-size="11">${Math.round(r)}</text>`;
  });
  const minutes = Array.from(
    { length: Math.floor(maxT / 60) + 1 },
    (_, m) => `<text x="${x(m * 60)}" y="${h - pad + 16}" text-anchor="middle" font-size="11">${m}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${w / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>
${ticks.join('\n')}
${minutes.join('\n')}
<text x="${w / 2}" y="${h - 8}" text-anchor="middle" font-size="12">minutes</text>
<text x="14" y="${h / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${h / 2})">RSS (MiB)</text>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${points}"/>
</svg>
`;
}

/**
 * The soak's verdict from its 5 s RSS samples. RSS saws up and down by a fifth
 * as sessions open and expire and the heap grows and is collected (404–550 MiB
 * after the first minute in the run of 2026-11-24 05:08, with no trend), so one
 * sample against another decides by where each falls on a tooth: that run read
 * ×1.161 by its 60 s and last samples, the run before ×1.066 only because its
 * 60 s sample was its lowest. The level is the median of a minute's samples:
 * the second minute ("after the first minute") against the last one. The
 * least-squares slope after the first minute says the same thing another way.
 */
export function soakLevels(samples: ReadonlyArray<{ t: number; rss: number }>, minutes: number) {
  const after = samples.filter((s) => s.t >= 60);
  const window = (from: number, to: number) => {
    const inside = samples.filter((s) => s.t >= from && s.t < to).map((s) => s.rss);
    return inside.length > 0 ? median(inside) : (samples.at(-1)?.rss ?? 0);
  };
  const first = window(60, 120);
  const last = window(minutes * 60 - 60, Infinity);
  const meanT = after.reduce((a, s) => a + s.t, 0) / Math.max(1, after.length);
  const afterRss = after.map((s) => s.rss);
  const meanR = afterRss.reduce((a, r) => a + r, 0) / Math.max(1, after.length);
  const spread = after.reduce((a, s) => a + (s.t - meanT) ** 2, 0);
  const slope = spread > 0 ? after.reduce((a, s) => a + (s.t - meanT) * (s.rss - meanR), 0) / spread : 0;
  return {
    rss_after_first_minute_mib: +first.toFixed(1),
    rss_at_end_mib: +last.toFixed(1),
    end_over_first_minute: +(last / first).toFixed(3),
    target_within_15_percent: last <= first * 1.15,
    rss_slope_mib_per_minute: +(slope * 60).toFixed(2),
    rss_range_after_first_minute_mib: [Math.min(...afterRss), Math.max(...afterRss)],
    // The old single-sample reading, kept to show what the medians replace.
    rss_sample_at_60s_mib: after[0]?.rss ?? 0,
    rss_last_sample_mib: samples.at(-1)?.rss ?? 0,
  };
}

/** One 5 s sample of a soak: RSS and, when the scrape answered, the V8 old space in use (MiB). */
export interface SoakSample {
  t: number;
  rss: number;
  old?: number;
}

/** session-buddy's V8 old-space use from its Prometheus metrics (loopback needs no token). */
async function oldSpaceMiB(metricsUrl: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(metricsUrl)).text();
    const bytes = /^nodejs_heap_space_size_used_bytes\{space="old"\} (\S+)$/m.exec(text)?.[1];
    return bytes === undefined ? undefined : +(Number(bytes) / 1024 / 1024).toFixed(1);
  } catch {
    return undefined;
  }
}

/** session-buddy for a soak, with its RSS (and old space) sampled every 5 s until `stop`. */
async function soakTarget(name: string, env: Record<string, string>) {
  const sb = await startServer(
    'session-buddy',
    join(ROOT, 'dist/apps/session-buddy/main.js'),
    [],
    {
      SESSION_BUDDY_SECRET: SECRET,
      SESSION_BUDDY_DATA_DIR: join(ROOT, 'tmp', `${name}-${Date.now()}`),
      SESSION_BUDDY_AUTH_FAILURE_LIMIT: '0',
      ...env,
    },
    'SESSION_BUDDY_PORT',
  );
  const samples: SoakSample[] = [];
  const started = Date.now();
  const metricsUrl = sb.url.replace(/\/mcp$/, '/metrics');
  const sampler = setInterval(() => {
    const sample: SoakSample = { t: (Date.now() - started) / 1000, rss: +sb.rssMiB().toFixed(1) };
    samples.push(sample);
    // What the heap holds beside what RSS shows: old space is where anything retained ends up.
    void oldSpaceMiB(metricsUrl).then((old) => {
      if (old !== undefined) sample.old = old;
    });
  }, 5_000);
  const stop = async () => {
    clearInterval(sampler);
    await sb.stop();
  };
  return { sb, samples, stop };
}

/**
 * Calls with session churn for `minutes`: workers open a session, call, then
 * delete it (DELETE /mcp) or abandon it (left to idle expiry). Records RSS.
 */
export async function soak(minutes: number): Promise<void> {
  const { sb, samples, stop } = await soakTarget('soak', { SESSION_BUDDY_SESSION_IDLE_SECONDS: '20' });
  const end = Date.now() + minutes * 60_000;
  let calls = 0;
  let sessions = 0;
  const worker = async (w: number) => {
    const bearer = token('session-buddy', `soak-${w}`);
    const headers = { authorization: `Bearer ${bearer}` };
    while (Date.now() < end) {
      const session = await openSession(sb.url, headers);
      sessions++;
      for (let i = 0; i < 20; i++) {
        const res = await fetch(sb.url, {
          method: 'POST',
          headers: { ...MCP_HEADERS, ...headers, 'mcp-session-id': session },
          body: JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: 'list_sessions', arguments: { limit: 5 } } }),
        });
        await res.text();
        calls++;
      }
      // Half the sessions are deleted properly, half abandoned to idle expiry.
      if (sessions % 2 === 0) await (await fetch(sb.url, { method: 'DELETE', headers: { ...headers, 'mcp-session-id': session } })).text();
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  await stop();
  const result = { machine: machine(), minutes, calls, sessions_opened: sessions, ...soakLevels(samples, minutes), samples };
  saveResult('soak', result);
  writeFileSync(join(ROOT, 'docs', 'soak-rss.svg'), svgPlot(samples, `session-buddy RSS during a ${minutes}-minute soak with session churn`));
  process.stdout.write(
    `soak: ${calls} calls, ${sessions} sessions, RSS ${result.rss_after_first_minute_mib} MiB in minute 2 → ${result.rss_at_end_mib} MiB in the last minute (medians)\n`,
  );
}

/**
 * The 2026-07-28 soak: the 2025 soak's load without sessions. Eight workers
 * make `list_sessions` calls, one POST each. With `churn`, every 20 calls a
 * worker switches to a new subject's token, so per-caller state (the
 * verification cache, 10,000 tokens) fills and turns over; without it each
 * worker keeps one token, as the 2025 soak's workers do.
 */
export async function soakModern(minutes: number, churn: boolean): Promise<void> {
  const { sb, samples, stop } = await soakTarget('soak-modern', {});
  const end = Date.now() + minutes * 60_000;
  let calls = 0;
  let failed = 0;
  let subjects = 0;
  const worker = async (w: number) => {
    const own = churn ? undefined : token('session-buddy', `soak-${w}-${subjects++}`);
    while (Date.now() < end) {
      const bearer = own ?? token('session-buddy', `soak-${w}-${subjects++}`);
      for (let i = 0; i < 20; i++) {
        const { body, headers } = modernCall(i + 1, 'list_sessions', { limit: 5 });
        const res = await fetch(sb.url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers, authorization: `Bearer ${bearer}` }, body });
        const text = await res.text();
        if (res.status !== 200 || !text.includes('"result"')) failed++;
        calls++;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  await stop();
  const name = churn ? 'soak-modern' : 'soak-modern-fixed';
  const result = { machine: machine(), minutes, churn, calls, failed, subjects, ...soakLevels(samples, minutes), samples };
  saveResult(name, result);
  writeFileSync(
    join(ROOT, 'docs', `${name}-rss.svg`),
    svgPlot(samples, `session-buddy RSS during a ${minutes}-minute 2026-07-28 soak${churn ? ', a new subject every 20 calls' : ', one subject per worker'}`),
  );
  process.stdout.write(
    `soak (2026-07-28): ${calls} calls (${failed} failed), ${subjects} subjects, RSS ${result.rss_after_first_minute_mib} MiB in minute 2 → ${result.rss_at_end_mib} MiB in the last minute (medians)\n`,
  );
}
