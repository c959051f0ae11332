// Run Python files on the MicroPython WebAssembly port (MicroPython 1.27).
//
// usage: node tests/mpy/run.mjs [--heapsize BYTES] ENTRY.py [FILE_OR_DIR ...]
//
// The firmware package (firmware/hipdrop_fw) is copied to /lib/hipdrop_fw as on
// the device; ENTRY and every further file or directory are copied into /work.
// Both folders go on sys.path and ENTRY is imported as a module. Exit status:
// 0 on success, 1 when Python raises, 2 on a usage error. (The package's own
// CLI exits 0 even when Python raises, so it is not used.)

import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const FIRMWARE = join(REPO, "firmware", "hipdrop_fw");

function parseArgs(argv) {
  let heapsize = 4 * 1024 * 1024;
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--heapsize") heapsize = Number(argv[++i]);
    else files.push(argv[i]);
  }
  if (files.length === 0 || !files[0].endsWith(".py") || !(heapsize > 0)) {
    process.stderr.write("usage: run.mjs [--heapsize BYTES] ENTRY.py [FILE_OR_DIR ...]\n");
    process.exit(2);
  }
  return { heapsize, files };
}

function copyInto(FS, src, dest) {
  if (statSync(src).isDirectory()) {
    FS.mkdirTree(dest);
    for (const name of readdirSync(src)) {
      if (name !== "__pycache__") copyInto(FS, join(src, name), `${dest}/${name}`);
    }
  } else {
    FS.writeFile(dest, readFileSync(src));
  }
}

const { heapsize, files } = parseArgs(process.argv.slice(2));
const mp = await loadMicroPython({
  heapsize,
  linebuffer: true,
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});
mp.FS.mkdirTree("/lib");
mp.FS.mkdirTree("/work");
copyInto(mp.FS, FIRMWARE, "/lib/hipdrop_fw");
for (const f of files) copyInto(mp.FS, resolve(f), `/work/${basename(f)}`);

const entry = basename(files[0], ".py");
try {
  mp.runPython(`import sys\nsys.path[:0] = ["/work", "/lib"]\nimport ${entry}`);
} catch (err) {
  if (err?.constructor?.name !== "PythonError") throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
