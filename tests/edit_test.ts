import { editorArgv, splitCommandLine } from "../lib/commands/edit.ts";
import { assertEquals } from "./assert.ts";

Deno.test("edit: editor commands split on whitespace, quotes group, backslashes stay", () => {
  assertEquals(splitCommandLine("code --wait"), ["code", "--wait"]);
  assertEquals(splitCommandLine("  vim  "), ["vim"]);
  assertEquals(
    splitCommandLine(`"C:\\Program Files\\Notepad++\\notepad++.exe" -multiInst`),
    ["C:\\Program Files\\Notepad++\\notepad++.exe", "-multiInst"],
  );
  assertEquals(splitCommandLine(`sh -c 'echo "$0"; exit 3'`), ["sh", "-c", `echo "$0"; exit 3`]);
  assertEquals(splitCommandLine(`emacs ""`), ["emacs", ""]);
  assertEquals(splitCommandLine(""), []);
});

Deno.test("edit: $VISUAL, then $EDITOR, then vi (notepad on Windows)", () => {
  assertEquals(editorArgv({ VISUAL: "code -w", EDITOR: "nano" }, "linux"), ["code", "-w"]);
  assertEquals(editorArgv({ VISUAL: " ", EDITOR: "nano" }, "linux"), ["nano"]);
  assertEquals(editorArgv({}, "linux"), ["vi"]);
  assertEquals(editorArgv({}, "windows"), ["notepad"]);
});
