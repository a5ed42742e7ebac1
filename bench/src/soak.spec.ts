import { soakLevels } from './soak';
import { medianInterval } from './load';

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
    const levels = soakLevels(run(10, (t) => sawtooth(t) + (t / 60) * 12), 10);
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

describe('median interval (bootstrap)', () => {
  it('is a point for constant ratios and brackets the median otherwise, the same on every call', () => {
    expect(medianInterval([1.2, 1.2, 1.2, 1.2])).toEqual([1.2, 1.2]);
    const ratios = [0.82, 0.95, 0.88, 0.91, 0.79, 0.93, 0.9, 0.86, 0.97, 0.84];
    const [low, high] = medianInterval(ratios);
    expect(low).toBeLessThanOrEqual(0.885);
    expect(high).toBeGreaterThanOrEqual(0.885);
    expect(low).toBeGreaterThanOrEqual(0.79);
    expect(high).toBeLessThanOrEqual(0.97);
    expect(low).toBeLessThan(high);
    expect(medianInterval(ratios)).toEqual([low, high]);
  });
});
