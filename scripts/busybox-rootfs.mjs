#!/usr/bin/env node
// Writes a minimal busybox root filesystem as a tar stream to stdout (or to the file given as the
// first argument), made offline from the host's busybox-static: /bin/busybox, a symlink per applet,
// /etc/passwd and /etc/group, and the usual empty mount points.
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";

const BUSYBOX = process.env.BUSYBOX ?? "/usr/bin/busybox";
const mtime = new Date(0);
const pack = tar.pack();
const out = process.argv[2] ? createWriteStream(process.argv[2]) : process.stdout;
const done = pipeline(pack, out);

const entry = (header, body) =>
  new Promise((resolve, reject) => pack.entry({ mtime, uid: 0, gid: 0, ...header }, body, (err) => (err ? reject(err) : resolve())));

for (const dir of ["bin", "dev", "etc", "home", "proc", "sys", "usr", "usr/bin", "usr/sbin", "sbin", "var", "var/spool", "var/spool/mail", "var/www"]) {
  await entry({ name: `${dir}/`, type: "directory", mode: 0o755 });
}
await entry({ name: "tmp/", type: "directory", mode: 0o1777 });
await entry({ name: "root/", type: "directory", mode: 0o700 });
await entry({ name: "etc/passwd", mode: 0o644 },
  "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n");
await entry({ name: "etc/group", mode: 0o644 }, "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n");

const size = statSync(BUSYBOX).size;
await new Promise((resolve, reject) => {
  const sink = pack.entry({ name: "bin/busybox", mode: 0o755, size, mtime, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
  createReadStream(BUSYBOX).pipe(sink);
});
const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a && a !== "busybox");
for (const applet of applets) {
  await entry({ name: `bin/${applet}`, type: "symlink", linkname: "busybox", mode: 0o777 });
}
pack.finalize();
await done;
