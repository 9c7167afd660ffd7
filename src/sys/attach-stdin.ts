import { spawn } from "node:child_process";
import type { Readable } from "node:stream";

// conmon's attach socket is SOCK_SEQPACKET, which Node's net module cannot open; python3's socket module can.
// The helper connects (by a relative path: the absolute one may exceed sun_path), copies its stdin to the socket
// and closes it at EOF, which makes conmon close the container's stdin unless --leave-stdin-open.
const HELPER = `
import os, select, socket, sys
os.chdir(sys.argv[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("attach")
while True:
    r, _, _ = select.select([0, s], [], [])
    if s in r:
        if not s.recv(65536):
            break
    if 0 in r:
        d = os.read(0, 65536)
        if not d:
            break
        s.sendall(d)
s.close()
`;

export const PYTHON = "/usr/bin/python3";

/** Copy src into the container's stdin through conmon's attach socket in bundleDir. Resolves when done. */
export function forwardStdin(bundleDir: string, src: Readable): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, ["-S", "-c", HELPER, bundleDir], { stdio: ["pipe", "ignore", "ignore"] });
    child.on("error", () => resolve());
    child.on("exit", () => {
      src.unpipe(child.stdin!);
      resolve();
    });
    child.stdin!.on("error", () => {});
    src.pipe(child.stdin!);
  });
}
