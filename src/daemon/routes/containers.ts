import { invalidArgument } from "../../errdefs/index.js";
import type { ContainersService, WaitCondition } from "../../services/types.js";
import type { ContainerConfig, ContainerCreateBody, HostConfig } from "../../spec/engine.js";
import type { ApiRequest } from "../api-request.js";
import type { ApiResponse } from "../api-response.js";
import { versionAtLeast } from "../api-version.js";
import { isCancelled, messageOf } from "../error-status.js";
import { encodePathStat } from "../path-stat.js";
import type { Route } from "../route.js";
import { frame, pipeEntries, primed, STREAM_SYSTEMERR, streamContentType } from "../stream-framing.js";

const WAIT_CONDITIONS: readonly WaitCondition[] = ["not-running", "next-exit", "removed"];

export function containerRoutes(containers: ContainersService): Route[] {
  return [
    {
      method: "POST", path: "/containers/create",
      async handle(req, res) {
        const body = await req.json<ContainerCreateBody>();
        if (!body || typeof body !== "object" || Array.isArray(body)) throw invalidArgument("config cannot be empty in order to create a container");
        const created = await containers.create(body, { name: req.query.get("name") || undefined, platform: req.query.get("platform") || undefined });
        res.json({ Id: created.Id, Warnings: created.Warnings ?? [] }, 201);
      },
    },
    {
      method: "GET", path: "/containers/json",
      async handle(req, res) {
        const limit = req.query.int("limit");
        res.json(await containers.list({
          all: req.query.bool("all"),
          limit: limit !== undefined && limit > 0 ? limit : undefined,
          size: req.query.bool("size"),
          filters: req.query.filters(),
        }));
      },
    },
    {
      method: "POST", path: "/containers/prune",
      async handle(req, res) {
        const r = await containers.prune({ filters: req.query.filters() });
        res.json({ ContainersDeleted: r.ContainersDeleted, SpaceReclaimed: r.SpaceReclaimed });
      },
    },
    {
      method: "GET", path: "/containers/:id/json",
      async handle(req, res) {
        res.json(await containers.inspect(req.params.id!, { size: req.query.bool("size") }));
      },
    },
    {
      method: "GET", path: "/containers/:id/top",
      async handle(req, res) {
        res.json(await containers.top(req.params.id!, req.query.get("ps_args") || undefined));
      },
    },
    {
      method: "GET", path: "/containers/:id/logs",
      async handle(req, res) {
        const q = req.query;
        const stdout = q.bool("stdout");
        const stderr = q.bool("stderr");
        if (!stdout && !stderr) throw invalidArgument("Bad parameters: you must choose at least one stream");
        const tty = await isTty(containers, req.params.id!);
        const out = res.stream(streamContentType(tty, req.version));
        const entries = containers.logs(req.params.id!, {
          stdout, stderr, follow: q.bool("follow"), timestamps: q.bool("timestamps"),
          since: parseUnixTime(q.get("since"), "since"), until: parseUnixTime(q.get("until"), "until"),
          tail: parseTail(q.get("tail")), signal: req.signal,
        });
        try {
          await pipeEntries(entries, out, { tty, timestamps: q.bool("timestamps") });
        } catch (err) {
          if (req.signal.aborted || isCancelled(err)) return;
          // Headers are gone: report in-band like dockerd (a system-error frame), then end.
          if (!tty) out.write(frame(STREAM_SYSTEMERR, Buffer.from(messageOf(err) + "\n")));
        }
        out.end();
      },
    },
    {
      method: "GET", path: "/containers/:id/changes",
      async handle(req, res) {
        res.json(await containers.changes(req.params.id!));
      },
    },
    {
      method: "GET", path: "/containers/:id/export",
      async handle(req, res) {
        res.status(200).header("Content-Type", "application/x-tar");
        await containers.export(req.params.id!, res.raw, req.signal);
        await res.bodyDone();
      },
    },
    {
      method: "POST", path: "/containers/:id/resize",
      async handle(req, res) {
        const h = req.query.int("h") ?? 0;
        const w = req.query.int("w") ?? 0;
        if (h < 0 || w < 0) throw invalidArgument("invalid resize dimensions: height and width must not be negative");
        await containers.resize(req.params.id!, h, w);
        res.end(200);
      },
    },
    {
      method: "POST", path: "/containers/:id/start",
      async handle(req, res) {
        req.body.resume();
        await containers.start(req.params.id!);
        res.end(204);
      },
    },
    {
      method: "POST", path: "/containers/:id/stop",
      async handle(req, res) {
        await containers.stop(req.params.id!, { timeout: req.query.int("t"), signal: req.query.get("signal") || undefined });
        res.end(204);
      },
    },
    {
      method: "POST", path: "/containers/:id/restart",
      async handle(req, res) {
        await containers.restart(req.params.id!, { timeout: req.query.int("t"), signal: req.query.get("signal") || undefined });
        res.end(204);
      },
    },
    {
      method: "POST", path: "/containers/:id/kill",
      async handle(req, res) {
        await containers.kill(req.params.id!, req.query.get("signal") || undefined);
        res.end(204);
      },
    },
    {
      method: "POST", path: "/containers/:id/update",
      async handle(req, res) {
        const body = await req.json<Partial<HostConfig>>();
        const r = await containers.update(req.params.id!, body ?? {});
        res.json({ Warnings: r.Warnings ?? [] });
      },
    },
    {
      method: "POST", path: "/containers/:id/rename",
      async handle(req, res) {
        const name = req.query.get("name");
        if (!name) throw invalidArgument("Neither old nor new names may be empty");
        await containers.rename(req.params.id!, name);
        res.end(204);
      },
    },
    {
      method: "POST", path: "/containers/:id/pause",
      async handle(req, res) {
        await containers.pause(req.params.id!);
        res.end(204);
      },
    },
    {
      method: "POST", path: "/containers/:id/unpause",
      async handle(req, res) {
        await containers.unpause(req.params.id!);
        res.end(204);
      },
    },
    {
      method: "POST", path: "/containers/:id/attach",
      handle: (req, res) => attach(containers, req, res),
    },
    {
      method: "POST", path: "/containers/:id/wait",
      async handle(req, res) {
        const raw = req.query.get("condition") || "not-running";
        if (!WAIT_CONDITIONS.includes(raw as WaitCondition)) throw invalidArgument(`invalid condition: "${raw}"`);
        // Fail before the status line for a missing container; afterwards only the body can carry errors.
        await containers.inspect(req.params.id!);
        // The CLI starts the container as soon as it sees these headers, so the waiter is registered
        // first: a quick container's exit must not slip between the status line and the wait.
        const waiting = containers.wait(req.params.id!, raw as WaitCondition, req.signal);
        const out = res.stream("application/json");
        let body: { StatusCode: number; Error: { Message: string } | null };
        try {
          const r = await waiting;
          body = { StatusCode: r.StatusCode, Error: r.Error ?? null };
        } catch (err) {
          if (req.signal.aborted || isCancelled(err)) return;
          body = { StatusCode: -1, Error: { Message: messageOf(err) } };
        }
        out.end(JSON.stringify(body) + "\n");
      },
    },
    {
      method: "DELETE", path: "/containers/:id",
      async handle(req, res) {
        await containers.remove(req.params.id!, { force: req.query.bool("force"), volumes: req.query.bool("v"), link: req.query.bool("link") });
        res.end(204);
      },
    },
    {
      method: "HEAD", path: "/containers/:id/archive",
      async handle(req, res) {
        const st = await containers.statPath(req.params.id!, archivePath(req));
        res.header("X-Docker-Container-Path-Stat", encodePathStat(st)).end(200);
      },
    },
    {
      method: "GET", path: "/containers/:id/archive",
      async handle(req, res) {
        const id = req.params.id!;
        const path = archivePath(req);
        const st = await containers.statPath(id, path);
        res.status(200).header("X-Docker-Container-Path-Stat", encodePathStat(st)).header("Content-Type", "application/x-tar");
        await containers.getArchive(id, path, res.raw, req.signal);
        await res.bodyDone();
      },
    },
    {
      method: "PUT", path: "/containers/:id/archive",
      async handle(req, res) {
        await containers.putArchive(req.params.id!, archivePath(req), req.body, {
          noOverwriteDirNonDir: req.query.bool("noOverwriteDirNonDir"),
          copyUIDGID: req.query.bool("copyUIDGID"),
          signal: req.signal,
        });
        res.end(200);
      },
    },
    {
      method: "POST", path: "/commit",
      async handle(req, res) {
        const id = req.query.get("container");
        if (!id) throw invalidArgument("No container specified");
        const config = await req.json<ContainerConfig>();
        const pauseRaw = req.query.get("pause");
        const pause = pauseRaw === undefined || pauseRaw === "" ? versionAtLeast(req.version, "1.13") : req.query.bool("pause");
        const imageId = await containers.commit(id, {
          repo: req.query.get("repo") || undefined, tag: req.query.get("tag") || undefined,
          comment: req.query.get("comment") || undefined, author: req.query.get("author") || undefined,
          changes: req.query.all("changes").filter((c) => c !== ""), pause, config: config ?? undefined,
        });
        res.json({ Id: imageId }, 201);
      },
    },
  ];
}

async function attach(containers: ContainersService, req: ApiRequest, _res: ApiResponse): Promise<void> {
  const id = req.params.id!;
  const q = req.query;
  // Resolve before hijacking so a missing container is an ordinary 404.
  const tty = await isTty(containers, id);
  const conn = req.takeConnection();
  const { socket } = conn;
  // Subscribe before the status line: the CLI starts the container as soon as it sees it.
  const entries = primed(containers.attach(id, {
    stream: q.bool("stream"), logs: q.bool("logs"),
    stdout: q.bool("stdout"), stderr: q.bool("stderr"),
    stdin: q.bool("stdin") ? conn.input : null,
    signal: req.signal,
  }));
  conn.sendHeaders(streamContentType(tty, req.version));
  try {
    await pipeEntries(entries, socket, { tty });
  } catch (err) {
    if (req.signal.aborted || isCancelled(err)) return;
    if (!tty && socket.writable) socket.write(frame(STREAM_SYSTEMERR, Buffer.from(messageOf(err) + "\n")));
  } finally {
    // Close our write side; the client closes its own when it has read everything.
    if (!socket.destroyed) {
      socket.end();
      socket.resume();
      socket.once("end", () => socket.destroy());
    }
  }
}

async function isTty(containers: ContainersService, id: string): Promise<boolean> {
  const c = await containers.inspect(id);
  return c.Config?.Tty === true;
}

function archivePath(req: ApiRequest): string {
  const p = req.query.get("path");
  if (!p) throw invalidArgument("path cannot be empty");
  return p;
}



/** since/until: unix seconds with optional fraction ("1700000000.123456789"); 0 or absent means unset. */
export function parseUnixTime(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === "") return undefined;
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(v)) throw invalidArgument(`invalid value for "${name}": ${JSON.stringify(v)}: expected a unix timestamp`);
  const n = Number(v);
  return n === 0 ? undefined : n;
}

/** tail: a non-negative count or "all"; dockerd treats anything unparsable as "all". */
export function parseTail(v: string | undefined): number | "all" {
  if (v === undefined || v === "" || v === "all") return "all";
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n >= 0 && /^[0-9]+$/.test(v) ? n : "all";
}
