/** Finding the real programs tests drive (shells, AWS CLI, dialogs), so a test can skip when one is missing. */

export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Full path of `program` on PATH (Windows: with .exe/.cmd), or undefined. A path is checked as is. */
export function which(program: string): string | undefined {
  if (program.includes("/")) return isFile(program) ? program : undefined;
  const windows = Deno.build.os === "windows";
  const names = windows ? [`${program}.exe`, `${program}.cmd`, program] : [program];
  for (const dir of (Deno.env.get("PATH") ?? "").split(windows ? ";" : ":")) {
    if (!dir) continue;
    for (const name of names) if (isFile(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
