/** Whether a process with this pid exists (EPERM: it exists but is not ours). Used to detect stale lock files. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
