// Installs a test tool once per version of what describes it: the steps run
// when a file the tool needs is missing or `stamp` holds other content than
// `version`, quietly, and a failure says which command failed with the last
// lines it printed.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Runs `steps` ([file, args] pairs) unless every `needed` file exists and `stamp` records `version`; then records it. */
export function installOnce({ needed, stamp, version, steps }) {
  if ([...needed, stamp].every((file) => existsSync(file)) && readFileSync(stamp, 'utf8') === version) return;
  for (const [file, args] of steps) {
    try {
      execFileSync(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      throw new Error(
        `${file} ${args.join(' ')} failed: ${String(error.stderr ?? error.message)
          .trim()
          .split('\n')
          .slice(-3)
          .join(' | ')}`,
      );
    }
  }
  writeFileSync(stamp, version);
}
