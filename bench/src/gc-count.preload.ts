// Loaded into a bench server with `-r`: counts garbage collections by kind, and
// on SIGUSR2 writes the counts to $BENCH_GC_OUT (alloc.ts reads them).
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';

const counts = { scavenges: 0, markCompacts: 0, other: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) counts.scavenges++;
    else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) counts.markCompacts++;
    else counts.other++;
  }
}).observe({ entryTypes: ['gc'] });
process.on('SIGUSR2', () => writeFileSync(process.env['BENCH_GC_OUT'] ?? '/dev/null', JSON.stringify(counts)));
