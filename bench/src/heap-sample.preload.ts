// Loaded into a bench server with `-r`: the first SIGUSR2 starts V8's sampling
// heap profiler, keeping objects the GC has already freed (so the profile is
// everything allocated, not what is still alive); the second writes the
// profile to $BENCH_HEAP_OUT.
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
let sampling = false;
const out = process.env['BENCH_HEAP_OUT'] ?? '/dev/null';
process.on('SIGUSR2', () => {
  if (!sampling) {
    sampling = true;
    session.post('HeapProfiler.enable', () =>
      session.post('HeapProfiler.startSampling', {
        samplingInterval: 512,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      } as never),
    );
    return;
  }
  session.post('HeapProfiler.stopSampling', (error, result) => {
    // Written aside and renamed, so the bench never reads half a profile.
    writeFileSync(`${out}.part`, JSON.stringify(error ? { error: error.message } : result.profile));
    renameSync(`${out}.part`, out);
  });
});
