/** Shared pieces of the registry end-to-end tests and the registry benchmark. */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pack } from "tar-stream";
import { LocalImagesService } from "../../src/services/images-service.js";
import { DistributionService, type DistributionConfig } from "../../src/services/distribution-service.js";
import { createLogger, type Logger } from "../../src/util/index.js";
import type { JsonMessage } from "../../src/spec/engine.js";
import { HtpasswdAuthorizer } from "../../src/registry/authorizer.js";
import { signToken } from "../../src/registry/jwt.js";

export const quiet: Logger = createLogger("error");

/** A layer tar with one file of `size` random bytes, generated as it is read. */
export function randomLayer(name: string, size: number): Readable {
  const p = pack();
  const entry = p.entry({ name, size, mode: 0o644, mtime: new Date(0) }, (err) => { if (err) p.destroy(err); else p.finalize(); });
  let left = size;
  const write = () => {
    while (left > 0) {
      const n = Math.min(left, 1 << 20);
      left -= n;
      if (!entry.write(randomBytes(n))) { entry.once("drain", write); return; }
    }
    entry.end(() => {});
  };
  write();
  return p as unknown as Readable;
}

/** An image of `layers` random layers of `layerSize` bytes, tagged `ref`. Returns its id. */
export async function makeRandomImage(images: LocalImagesService, ref: string, layers: number, layerSize: number, base: string | null = null): Promise<string> {
  let parent = base;
  for (let i = 0; i < layers; i++) {
    parent = await images.commitLayer({
      parent, layer: randomLayer(`file-${i}-${randomBytes(4).toString("hex")}`, layerSize), config: { Cmd: ["/bin/sh"] },
      createdBy: `layer ${i}`, ...(i === layers - 1 ? { tag: ref } : {}),
    });
  }
  return parent!;
}

export interface Engine {
  dataRoot: string;
  images: LocalImagesService;
  dist: DistributionService;
  close(): Promise<void>;
}

/** A LocalImagesService + DistributionService on a temp data root. close() removes every image and the root. */
export async function openEngine(config: DistributionConfig = {}): Promise<Engine> {
  const dataRoot = await mkdtemp(join(tmpdir(), "berth-dist-"));
  const images = await LocalImagesService.open({ dataRoot, logger: quiet });
  const dist = new DistributionService({ images, content: images.content, logger: quiet, config });
  return {
    dataRoot, images, dist,
    async close() {
      for (const img of await images.list({ all: true })) await images.remove(img.Id, { force: true }).catch(() => {});
      await images.prune().catch(() => {});
      await rm(dataRoot, { recursive: true, force: true });
    },
  };
}

export async function collect(it: AsyncIterable<JsonMessage>): Promise<JsonMessage[]> {
  const out: JsonMessage[] = [];
  for await (const m of it) out.push(m);
  return out;
}

export function statuses(msgs: JsonMessage[]): string[] {
  return msgs.filter((m) => m.status && !(m.progressDetail && "current" in m.progressDetail)).map((m) => (m.id ? `${m.id}: ${m.status}` : m.status!));
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Debian's docker-registry (the CNCF distribution server) on a loopback port with its own root. */
export async function startDockerRegistry(): Promise<{ address: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "berth-cncf-"));
  const port = await freePort();
  await mkdir(join(dir, "data"));
  await writeFile(join(dir, "config.yml"), [
    "version: 0.1", "log:", "  level: error", "storage:", "  filesystem:", `    rootdirectory: ${join(dir, "data")}`,
    "  delete:", "    enabled: true", "http:", `  addr: 127.0.0.1:${port}`, "",
  ].join("\n"));
  const proc: ChildProcess = spawn("/usr/bin/docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr!.on("data", (d: Buffer) => { log += d.toString(); });
  const address = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://${address}/v2/`)).status === 200) break;
    } catch { /* not yet */ }
    if (i > 100 || proc.exitCode !== null) {
      proc.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (proc.exitCode === null) proc.kill("SIGKILL");
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A Docker-style token server: Basic credentials checked against an htpasswd file, every requested scope granted. */
export async function startTokenServer(opts: { htpasswd: string; privateKeyPem: string; service: string; issuer: string }): Promise<{ realm: string; requests: number; close(): Promise<void> }> {
  const users = new HtpasswdAuthorizer(opts.htpasswd);
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    state.requests++;
    void (async () => {
      const url = new URL(req.url ?? "/", "http://x");
      const h = req.headers.authorization ?? "";
      let sub = "";
      if (/^basic /i.test(h)) {
        const [u, ...p] = Buffer.from(h.slice(6), "base64").toString().split(":");
        if (!(await users.check(u ?? "", p.join(":")))) {
          res.writeHead(401, { "Content-Type": "application/json" }).end(JSON.stringify({ details: "incorrect username or password" }));
          return;
        }
        sub = u!;
      }
      const access = url.searchParams.getAll("scope").flatMap((s) => s.split(" ")).filter(Boolean).map((s) => {
        const first = s.indexOf(":");
        const last = s.lastIndexOf(":");
        return { type: s.slice(0, first), name: s.slice(first + 1, last), actions: sub ? s.slice(last + 1).split(",") : [] };
      });
      const token = signToken({ iss: opts.issuer, sub, aud: opts.service, access, ttlSeconds: 300 }, opts.privateKeyPem);
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ token, expires_in: 300, issued_at: new Date().toISOString() }));
    })().catch((err) => { res.writeHead(500).end(String(err)); });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return {
    realm,
    get requests() { return state.requests; },
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}
