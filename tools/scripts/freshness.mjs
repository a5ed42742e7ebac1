// Whether a build output is older than the sources it is made from, so the
// start script and the CLI's launcher build only when something changed.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return /\.spec\.ts$/.test(path) ? 0 : stat.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    latest = Math.max(latest, newest(join(path, entry)));
  }
  return latest;
}

/** True when any output is missing or older than the newest input (files or folders, relative to root). */
export function isStale(root, outputs, inputs) {
  const built = Math.min(...outputs.map((o) => newest(join(root, o)) || -1));
  if (built <= 0) return true;
  return inputs.some((i) => newest(join(root, i)) > built);
}
