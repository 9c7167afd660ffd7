import type { Readable, Writable } from "node:stream";
import { invalidArgument } from "../../errdefs/index.js";
import type { ExecCreateBody, ExecService } from "../../services/exec-service.js";
import { messageOf } from "../error-status.js";
import type { Route } from "../route.js";
import { frameHeader, STREAM_STDERR, STREAM_STDOUT, streamContentType } from "../stream-framing.js";

export function execRoutes(exec: ExecService): Route[] {
  return [
    {
      method: "POST", path: "/containers/:id/exec",
      async handle(req, res) {
        const body = await req.json<ExecCreateBody>();
        if (!body || typeof body !== "object" || Array.isArray(body)) throw invalidArgument("config cannot be empty in order to create an exec");
        res.json(await exec.create(req.params.id!, body), 201);
      },
    },
    {
      method: "GET", path: "/exec/:id/json",
      async handle(req, res) {
        res.json(await exec.inspect(req.params.id!));
      },
    },
    {
      method: "POST", path: "/exec/:id/resize",
      handle(req, res) {
        exec.resize(req.params.id!, req.query.int("h") ?? 0, req.query.int("w") ?? 0);
        res.end(200);
      },
    },
    {
      method: "POST", path: "/exec/:id/start",
      async handle(req, res) {
        const id = req.params.id!;
        const body = (await req.json<{ Detach?: boolean; Tty?: boolean }>()) ?? {};
        if (body.Detach) {
          await exec.startDetached(id);
          if (req.wantsUpgrade) req.hijack("application/vnd.docker.raw-stream").socket.end();
          else res.end(200);
          return;
        }
        const tty = exec.tty(id, body.Tty);
        const conn = req.takeConnection();
        const { socket } = conn;
        let streams;
        try {
          streams = await exec.startAttached(id, conn.input, tty);
        } catch (err) {
          // Headers not sent yet: an ordinary HTTP error on the raw connection.
          const msg = JSON.stringify({ message: messageOf(err) }) + "\n";
          const status = (err as { kind?: string }).kind === "not-found" ? "404 Not Found" : (err as { kind?: string }).kind === "conflict" ? "409 Conflict" : "500 Internal Server Error";
          socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(msg)}\r\nConnection: close\r\n\r\n${msg}`);
          return;
        }
        conn.sendHeaders(streamContentType(streams.tty, req.version));
        const copies: Promise<void>[] = [];
        if (streams.stdout) copies.push(copyOut(streams.stdout, socket, streams.tty ? null : STREAM_STDOUT));
        if (streams.stderr) copies.push(copyOut(streams.stderr, socket, streams.tty ? null : STREAM_STDERR));
        const [result] = await Promise.all([streams.done, ...copies]);
        if (result.runtimeError && socket.writable) {
          const text = Buffer.from(result.runtimeError + "\r\n");
          socket.write(streams.tty ? text : Buffer.concat([frameHeader(STREAM_STDOUT, text.length), text]));
        }
        if (!socket.destroyed) {
          socket.end();
          socket.resume();
          socket.once("end", () => socket.destroy());
          setTimeout(() => socket.destroy(), 5000).unref();
        }
      },
    },
  ];
}

/** Copy a process's output to the client, framed without a TTY, honouring backpressure. */
function copyOut(src: Readable, dst: Writable, stream: number | null): Promise<void> {
  return new Promise((resolve) => {
    src.on("data", (d: Buffer) => {
      if (dst.destroyed || dst.writableEnded) return;
      const ok = stream === null ? dst.write(d) : (dst.write(frameHeader(stream, d.length)), dst.write(d));
      if (!ok) {
        src.pause();
        dst.once("drain", () => src.resume());
      }
    });
    src.once("end", () => resolve());
    src.once("close", () => resolve());
    src.once("error", () => resolve());
  });
}
