import type { Readable, Writable } from "node:stream";
import type { HijackedConnection } from "../client/transport.js";
import { demux } from "../client/demux.js";
import { EscapeProxy, parseDetachKeys } from "../util/escape-proxy.js";

export interface AttachStreams {
  tty: boolean;
  /** Forward this to the container's stdin (ended with a half-close), or null to send nothing. */
  stdin: (Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown }) | null;
  stdout: Writable;
  stderr: Writable;
  /** --detach-keys as given ("" = ctrl-p,ctrl-q); watched for on a terminal, like the docker CLI does. */
  detachKeys?: string;
}


/** Copies a hijacked connection to our streams until the container side closes it or the user detaches. */
export async function pumpAttached(conn: HijackedConnection, streams: AttachStreams): Promise<{ detached: boolean }> {
  const { socket } = conn;
  // before API 1.42 every attach answer said raw-stream, so the container's TTY setting decides
  const raw = streams.tty;
  const stdin = streams.stdin;
  let restoreRaw = false;
  let detached = false;
  let proxy: EscapeProxy | null = null;
  if (stdin) {
    if (streams.tty && stdin.isTTY && stdin.setRawMode) { stdin.setRawMode(true); restoreRaw = true; }
    if (streams.tty) {
      // Detaching closes the connection without a half-close first: the container must not see EOF on its stdin.
      proxy = new EscapeProxy(parseDetachKeys(streams.detachKeys));
      proxy.once("detach", () => {
        detached = true;
        proxy!.unpipe(socket as unknown as Writable);
        socket.destroy();
      });
      stdin.pipe(proxy).pipe(socket as unknown as Writable);
    } else {
      stdin.pipe(socket as unknown as Writable);
    }
  }
  try {
    if (raw) {
      for await (const chunk of socket) {
        if (!streams.stdout.write(chunk as Buffer)) await new Promise((r) => streams.stdout.once("drain", r));
      }
    } else {
      await demux(socket as unknown as Readable, streams.stdout, streams.stderr);
    }
  } catch (err) {
    // the daemon closing the connection abruptly at exit is not an error worth reporting
    if ((err as NodeJS.ErrnoException).code !== "ECONNRESET" && !detached) throw err;
  } finally {
    if (stdin) {
      stdin.unpipe((proxy ?? socket) as unknown as Writable);
      if (restoreRaw) stdin.setRawMode?.(false);
      stdin.pause();
    }
    socket.destroy();
  }
  return { detached };
}

/** Sends our terminal size to the container and follows window changes; returns a stop function. */
export function followTerminalSize(resize: (h: number, w: number) => Promise<void>): () => void {
  const out = process.stdout;
  if (!out.isTTY) return () => {};
  const send = () => { resize(out.rows, out.columns).catch(() => {}); };
  send();
  process.on("SIGWINCH", send);
  return () => { process.off("SIGWINCH", send); };
}

const PROXIED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/** --sig-proxy: signals we receive are sent to the container instead of ending us. */
export function proxySignals(kill: (signal: string) => Promise<void>): () => void {
  const handlers = PROXIED.map((sig) => {
    const h = () => { kill(sig).catch(() => {}); };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => { for (const [sig, h] of handlers) process.off(sig, h); };
}
