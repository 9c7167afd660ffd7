import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import tar from "tar-stream";
import { LocalContainersService } from "../../src/services/containers-service.js";
import { LocalImagesService } from "../../src/services/images-service.js";
import { BuildService, type BuildOptions } from "../../src/services/build-service.js";
import type { StepReport } from "../../src/builder/build-executor.js";
import type { JsonMessage } from "../../src/spec/engine.js";
import { createLogger } from "../../src/util/index.js";

const run = promisify(execFile);
const REPO = new URL("../../../", import.meta.url).pathname;

export type ContextFiles = Record<string, string | Buffer | { data: string | Buffer; mode?: number; mtime?: Date }>;

/** A context tar from a map of path -> content (directories implied). */
export function contextTar(files: ContextFiles): Readable {
  const pack = tar.pack();
  (async () => {
    for (const [name, v] of Object.entries(files)) {
      const spec = typeof v === "string" || Buffer.isBuffer(v) ? { data: v } : v;
      const body = Buffer.isBuffer(spec.data) ? spec.data : Buffer.from(spec.data);
      await new Promise<void>((res, rej) => pack.entry({ name, mode: spec.mode ?? 0o644, mtime: spec.mtime ?? new Date(1_600_000_000_000), uid: 0, gid: 0 }, body, (e) => (e ? rej(e) : res())));
    }
    pack.finalize();
  })().catch((e: Error) => pack.destroy(e));
  return pack as unknown as Readable;
}

export interface BuildResult {
  messages: JsonMessage[];
  text: string;
  error: string | null;
  code: number | undefined;
  id: string | null;
  steps: StepReport[];
}

/** A real images + containers + build stack on a temp data root with busybox:latest imported. */
export class BuildFixture {
  root = "";
  images!: LocalImagesService;
  containers!: LocalContainersService;
  builder!: BuildService;
  readonly logger = createLogger("error");

  async open(): Promise<this> {
    this.root = await mkdtemp(join(tmpdir(), "berth-build-"));
    const dataRoot = join(this.root, "data");
    this.images = await LocalImagesService.open({ dataRoot, logger: this.logger });
    const tarPath = join(this.root, "busybox.tar");
    await run(process.execPath, [join(REPO, "scripts/busybox-rootfs.mjs"), tarPath]);
    await this.images.import(createReadStream(tarPath), { repo: "busybox", tag: "latest", changes: ['CMD ["sh"]'] });
    await this.#openServices();
    return this;
  }

  async #openServices(): Promise<void> {
    const dataRoot = join(this.root, "data");
    this.containers = await LocalContainersService.open({
      dataRoot, execRoot: join(this.root, "exec"), images: this.images, snapshotter: this.images.snapshotter, logger: this.logger,
    });
    this.images.setUsage(this.containers);
    this.builder = new BuildService({ images: this.images, containers: this.containers, dataRoot, logger: this.logger });
  }

  /** A fresh BuildService and LocalImagesService on the same data root, as after a daemon restart. */
  async restart(): Promise<void> {
    await this.containers.close();
    this.images = await LocalImagesService.open({ dataRoot: join(this.root, "data"), logger: this.logger });
    await this.#openServices();
  }

  async build(files: ContextFiles | Readable, opts: BuildOptions = {}): Promise<BuildResult> {
    const steps: StepReport[] = [];
    const ctx = files instanceof Readable ? files : contextTar(files);
    const messages: JsonMessage[] = [];
    for await (const m of this.builder.build(ctx, { ...opts, onStep: (r) => steps.push(r) })) messages.push(m);
    const err = messages.find((m) => m.errorDetail);
    const aux = messages.find((m) => m.aux && typeof m.aux === "object" && "ID" in (m.aux as object));
    return {
      messages, steps,
      text: messages.map((m) => m.stream ?? "").join(""),
      error: err?.errorDetail?.message ?? null,
      code: err?.errorDetail?.code,
      id: aux ? (aux.aux as { ID: string }).ID : null,
    };
  }

  /** Run a command in a new container of image and return its stdout. */
  async runIn(image: string, cmd: string[]): Promise<{ out: string; code: number }> {
    const { Id } = await this.containers.create({ Image: image, Cmd: cmd, Entrypoint: [""], HostConfig: { NetworkMode: "none" } });
    try {
      const waited = this.containers.wait(Id, "next-exit");
      await this.containers.start(Id);
      const { StatusCode } = await waited;
      let out = "";
      for await (const e of this.containers.logs(Id, { stdout: true, stderr: true })) out += e.data.toString();
      return { out, code: StatusCode };
    } finally {
      await this.containers.remove(Id, { force: true });
    }
  }

  /** Build containers, active build snapshots, scratch dirs and mounts left over (should all be empty). */
  async leftovers(): Promise<{ containers: number; snapshots: string[]; tmp: string[]; mounts: string[] }> {
    const containers = (await this.containers.list({ all: true })).length;
    const snapshots: string[] = [];
    for await (const s of this.images.snapshotter.walk()) if (s.kind !== "committed") snapshots.push(s.name);
    const tmp = await readdir(join(this.root, "data", "builder", "tmp")).catch(() => []);
    const info = await readFile("/proc/self/mountinfo", "utf8");
    const mounts = info.split("\n").map((l) => l.split(" ")[4]).filter((p): p is string => !!p && p.startsWith(this.root));
    return { containers, snapshots, tmp, mounts };
  }

  async close(): Promise<void> {
    try {
      for (const c of await this.containers.list({ all: true })) await this.containers.remove(c.Id, { force: true }).catch(() => {});
      await this.containers.close();
    } finally {
      const info = await readFile("/proc/self/mountinfo", "utf8");
      const mounts = info.split("\n").map((l) => l.split(" ")[4]).filter((p): p is string => !!p && p.startsWith(this.root)).sort((a, b) => b.length - a.length);
      for (const m of mounts) await run("umount", ["-l", m]).catch(() => {});
      await rm(this.root, { recursive: true, force: true });
    }
  }
}
