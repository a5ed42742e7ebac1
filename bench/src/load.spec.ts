import { medianInterval } from './load';

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
