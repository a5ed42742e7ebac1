import { soakLevels } from './soak';

/** 5 s samples over `minutes`, RSS from `rss(t)`. */
const run = (minutes: number, rss: (t: number) => number) => Array.from({ length: (minutes * 60) / 5 }, (_, i) => ({ t: (i + 1) * 5, rss: rss((i + 1) * 5) }));

describe('soak verdict', () => {
  // A 35 s sawtooth from 400 MiB up towards 560: the 60 s sample is at a trough, the last one well up a tooth.
  const sawtooth = (t: number) => 400 + 160 * (((t - 60 + 350) % 35) / 35);

  it('passes memory that saws without a trend, which single samples would fail', () => {
    const samples = run(10, sawtooth);
    const levels = soakLevels(samples, 10);
    expect(levels.rss_last_sample_mib / levels.rss_sample_at_60s_mib).toBeGreaterThan(1.15);
    expect(levels.target_within_15_percent).toBe(true);
    expect(levels.end_over_first_minute).toBeGreaterThan(0.9);
    expect(levels.end_over_first_minute).toBeLessThan(1.1);
    expect(Math.abs(levels.rss_slope_mib_per_minute)).toBeLessThan(2);
  });

  it('fails memory that keeps growing, however it saws', () => {
    const levels = soakLevels(
      run(10, (t) => sawtooth(t) + (t / 60) * 12),
      10,
    );
    expect(levels.target_within_15_percent).toBe(false);
    expect(levels.end_over_first_minute).toBeGreaterThan(1.15);
    expect(levels.rss_slope_mib_per_minute).toBeGreaterThan(10);
    expect(levels.rss_slope_mib_per_minute).toBeLessThan(14);
  });

  it('reads a level as the median of the minute, not its mean (one spike does not decide)', () => {
    const samples = run(10, () => 300).map((s) => (s.t === 600 ? { ...s, rss: 900 } : s));
    const levels = soakLevels(samples, 10);
    expect(levels.rss_at_end_mib).toBe(300);
    expect(levels.target_within_15_percent).toBe(true);
    expect(levels.rss_range_after_first_minute_mib).toEqual([300, 900]);
  });
});
