import { Counter, Histogram, Registry } from 'prom-client';
import { CounterCells, HistogramCells } from './metric-cells';
import { TOOL_LATENCY_BUCKETS } from './mcp-metrics.service';

const BOUNDS = TOOL_LATENCY_BUCKETS;
// Below, on and between bounds, above the last one, and zero; three label values in a mixed order.
const OBSERVATIONS: Array<[string, number]> = [
  ['echo', 0.0003],
  ['status', 0.001],
  ['echo', 0.0049],
  ['echo', 0.005],
  ['list_sessions', 3.7],
  ['status', 0],
  ['echo', 0.26],
  ['status', 2.5],
  ['list_sessions', 0.0101],
  ['echo', 1e-7],
];

describe('HistogramCells', () => {
  it("exposes exactly what prom-client's own Histogram exposes for the same observations", async () => {
    const theirs = new Registry();
    const reference = new Histogram({ name: 'h_seconds', help: 'help text', labelNames: ['tool'], buckets: [...BOUNDS], registers: [theirs] });
    const ours = new Registry();
    const cells = new HistogramCells('h_seconds', 'help text', 'tool', BOUNDS).register(ours);
    for (const [tool, seconds] of OBSERVATIONS) {
      reference.observe({ tool }, seconds);
      cells.observe(tool, seconds);
    }
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('h_seconds_bucket{le="0.005",tool="echo"} 4');
    expect(text).toContain('h_seconds_bucket{le="+Inf",tool="list_sessions"} 2');
    // The JSON form too, but for prom-client's exemplar slots, which these metrics never fill.
    const withoutExemplars = (json: unknown) => JSON.parse(JSON.stringify(json, (key, value: unknown) => (key === 'exemplar' ? undefined : value)));
    expect(withoutExemplars(await ours.getMetricsAsJSON())).toEqual(withoutExemplars(await theirs.getMetricsAsJSON()));
  });

  it('ignores a value that is not a finite number instead of poisoning the sum', async () => {
    const cells = new HistogramCells('h', 'h', 'tool', BOUNDS);
    cells.observe('echo', 0.002);
    cells.observe('echo', Number.NaN);
    cells.observe('echo', Number.POSITIVE_INFINITY);
    const { values } = await cells.get();
    expect(values.find((v) => v.metricName === 'h_count')?.value).toBe(1);
    expect(values.find((v) => v.metricName === 'h_sum')?.value).toBe(0.002);
  });

  it('forgets everything on reset', async () => {
    const cells = new HistogramCells('h', 'h', 'tool', BOUNDS);
    cells.observe('echo', 0.002);
    cells.reset();
    expect((await cells.get()).values).toEqual([]);
  });
});

describe('CounterCells', () => {
  it('publishes through a prom-client Counter the same text as counting there directly', async () => {
    const theirs = new Registry();
    const direct = new Counter({ name: 'c_total', help: 'h', labelNames: ['tool', 'outcome'], registers: [theirs] });
    const cells = new CounterCells('tool', 'outcome');
    const ours = new Registry();
    cells.register(ours, 'c_total', 'h');
    const calls: Array<[string, string]> = [
      ['echo', 'ok'],
      ['echo', 'ok'],
      ['status', 'denied'],
      ['echo', 'tool_error'],
      ['echo', 'ok'],
    ];
    for (const [tool, outcome] of calls) {
      direct.inc({ tool, outcome });
      cells.inc(tool, outcome);
    }
    // Same lines; the order of label sets within a metric means nothing to Prometheus.
    const lines = async (registry: Registry) => (await registry.metrics()).split('\n').sort();
    expect(await lines(ours)).toEqual(await lines(theirs));
    expect(await ours.metrics()).toContain('c_total{tool="echo",outcome="ok"} 3');
    // A second scrape reports the same totals, not twice them.
    expect(await lines(ours)).toEqual(await lines(theirs));
  });
});
