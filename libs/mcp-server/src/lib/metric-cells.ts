// Metrics recorded on every request, kept as plain numbers in cells found by
// nested Map lookups, and turned into prom-client's exposition only when
// /metrics is scraped. prom-client's own labelled calls build a label-hash
// string and validate the labels on every call, and a histogram observation also
// allocates a closure and looks its bucket up by a number-keyed property; in
// the load bench that came to a few µs and ~0.7 KB of garbage per tool call.
import { Counter, type Metric, type Registry } from 'prom-client';

interface CountCell<L extends string> {
  readonly labels: Record<L, string>;
  value: number;
}

/** Counts by two labels, for a prom-client Counter to publish in its `collect()`. */
export class CounterCells<A extends string, B extends string> {
  private readonly rows = new Map<string, Map<string, CountCell<A | B>>>();

  constructor(
    private readonly first: A,
    private readonly second: B,
  ) {}

  /** Adds one to the cell for these label values. */
  inc(a: string, b: string): void {
    let row = this.rows.get(a);
    if (row === undefined) this.rows.set(a, (row = new Map()));
    const cell = row.get(b);
    if (cell !== undefined) cell.value++;
    else row.set(b, { labels: { [this.first]: a, [this.second]: b } as Record<A | B, string>, value: 1 });
  }

  /** Every cell counted so far. */
  *cells(): IterableIterator<CountCell<A | B>> {
    for (const row of this.rows.values()) yield* row.values();
  }

  /**
   * Publishes these counts in `registry` as a prom-client Counter named `name`,
   * which copies the cells in when scraped (its `collect()`, public API).
   */
  register(registry: Registry, name: string, help: string): Counter<A | B> {
    const cells = () => this.cells();
    return new Counter({
      name,
      help,
      labelNames: [this.first, this.second],
      registers: [registry],
      collect() {
        this.reset();
        for (const cell of cells()) this.inc(cell.labels, cell.value);
      },
    });
  }
}

/** One exposition line as prom-client's registry formats it. */
interface ExpositionValue {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

interface HistogramCell {
  readonly value: string;
  /** Observations per bucket, not cumulative; the last slot is above every bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/**
 * A histogram with one label, registered in a prom-client Registry as a metric
 * of its own (the registry asks only for `name` and `get()`). Its text is
 * pinned to prom-client's own Histogram by the spec beside it.
 */
export class HistogramCells<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly cellsByValue = new Map<string, HistogramCell>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly label: L,
    private readonly bounds: readonly number[],
  ) {}

  /** Records one observation for this label value. */
  observe(labelValue: string, value: number): void {
    if (!Number.isFinite(value)) return;
    let cell = this.cellsByValue.get(labelValue);
    if (cell === undefined)
      this.cellsByValue.set(labelValue, (cell = { value: labelValue, counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 }));
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    (cell.counts[i] as number)++;
    cell.sum += value;
    cell.count++;
  }

  /** What prom-client's registry formats: cumulative buckets, then `+Inf`, sum and count per label value. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExpositionValue[] }> {
    const values: ExpositionValue[] = [];
    for (const cell of this.cellsByValue.values()) {
      const labels = { [this.label]: cell.value };
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += cell.counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: bound, ...labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: cell.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: cell.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: cell.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /**
   * Adds this histogram to `registry`. The registry asks a metric only for its
   * name, `get()` and `reset()`; prom-client's types list its own classes, hence
   * the cast.
   */
  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }

  /** Forgets every observation (prom-client's `Registry.resetMetrics`). */
  reset(): void {
    this.cellsByValue.clear();
  }
}
