/**
 * Temp files being written right now (atomic writes), so an interrupt can remove them before exiting.
 * Writers call trackTempFile before creating one and untrackTempFile once it is renamed or removed.
 */
const pending = new Set<string>();

export function trackTempFile(path: string): void {
  pending.add(path);
}

export function untrackTempFile(path: string): void {
  pending.delete(path);
}

export function removeTempFiles(): void {
  for (const path of pending) {
    try {
      Deno.removeSync(path);
    } catch { /* already renamed or gone */ }
  }
  pending.clear();
}
