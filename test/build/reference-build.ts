/**
 * The reference build for the benchmark: a 12-step Dockerfile with several COPY and RUN steps over
 * about 20 MB of files, built cold, fully cached, and after a change to one late COPY source.
 * Engine-agnostic: give it a function that builds a context directory and returns the classic
 * builder's output text (BuildService in process, or `DOCKER_BUILDKIT=0 docker build` against any daemon).
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { packTree } from "../../src/images/layer/index.js";
import type { BuildService } from "../../src/services/build-service.js";
import { run } from "../helpers/daemon.js";

export const REFERENCE_DOCKERFILE = `FROM busybox
ARG APP_VERSION=1.0
ENV APP_HOME=/srv/app
WORKDIR /srv/app
COPY vendor/ ./vendor/
RUN find vendor -type f | wc -l > vendor.count
COPY assets/ ./assets/
RUN du -s assets > assets.size
COPY src/ ./src/
RUN cat src/*.js | wc -c > src.bytes
LABEL version=$APP_VERSION
CMD ["sh", "-c", "cat vendor.count assets.size src.bytes"]
`;

/** The steps (1-based) a change to src/main.js must rebuild: the COPY src/ step and everything after it. */
export const LATE_CHANGE_REBUILDS = [9, 10, 11, 12];

export async function writeReferenceContext(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const put = async (rel: string, data: Buffer | string) => {
    await mkdir(join(dir, rel, ".."), { recursive: true });
    await writeFile(join(dir, rel), data);
    files++;
    bytes += data.length;
  };
  await put("Dockerfile", REFERENCE_DOCKERFILE);
  await put(".dockerignore", "*.tmp\n");
  for (let i = 0; i < 200; i++) await put(`vendor/lib${i % 10}/mod${i}.bin`, randomBytes(50 * 1024));
  for (let i = 0; i < 20; i++) await put(`assets/img${i}.dat`, randomBytes(450 * 1024));
  for (let i = 0; i < 50; i++) await put(`src/part${i}.js`, `export const part${i} = ${JSON.stringify(randomBytes(10 * 1024).toString("base64"))};\n`);
  await put("src/main.js", "console.log('v1');\n");
  return { files, bytes };
}

export async function changeLateCopySource(dir: string): Promise<void> {
  await writeFile(join(dir, "src/main.js"), `console.log('v${Date.now()}');\n`);
}

export interface PhaseResult {
  ms: number;
  /** 1-based step numbers that were not reused (FROM excluded). */
  rebuilt: number[];
  cached: number[];
}

export interface ReferenceBenchResult {
  cold: PhaseResult;
  cached: PhaseResult;
  oneFileChanged: PhaseResult;
  /** True when the one-file change rebuilt exactly LATE_CHANGE_REBUILDS. */
  exactRebuild: boolean;
}

/** Which steps of classic-builder output were cache hits. */
export function parseSteps(output: string): { rebuilt: number[]; cached: number[] } {
  const rebuilt: number[] = [];
  const cached: number[] = [];
  const blocks = output.split(/^Step (?=\d+\/\d+ : )/m).slice(1);
  for (const b of blocks) {
    const m = /^(\d+)\/\d+ : (\S+)/.exec(b)!;
    if (m[2]!.toUpperCase() === "FROM") continue;
    (b.includes(" ---> Using cache") ? cached : rebuilt).push(Number(m[1]));
  }
  return { rebuilt, cached };
}

export async function benchReferenceBuild(dir: string, build: (dir: string) => Promise<string>): Promise<ReferenceBenchResult> {
  await writeReferenceContext(dir);
  const phase = async (): Promise<PhaseResult> => {
    const t0 = performance.now();
    const out = await build(dir);
    return { ms: Math.round(performance.now() - t0), ...parseSteps(out) };
  };
  const cold = await phase();
  const cached = await phase();
  await changeLateCopySource(dir);
  const oneFileChanged = await phase();
  const exactRebuild = JSON.stringify(oneFileChanged.rebuilt) === JSON.stringify(LATE_CHANGE_REBUILDS);
  return { cold, cached, oneFileChanged, exactRebuild };
}

/** Build through BuildService in process (the context sent as a tar stream, as a client would). */
export function buildWithService(builder: BuildService, tag = "bench:ref"): (dir: string) => Promise<string> {
  return async (dir) => {
    let out = "";
    const ctx: Readable = packTree(dir);
    for await (const m of builder.build(ctx, { tags: [tag] })) {
      if (m.errorDetail) throw new Error(m.errorDetail.message);
      out += m.stream ?? "";
    }
    return out;
  };
}

/** Build with the docker CLI's classic builder against a daemon (berthd or dockerd). */
export function buildWithDockerCli(host: string, tag = "bench:ref", env: Record<string, string> = {}): (dir: string) => Promise<string> {
  return async (dir) => {
    const r = await run("docker", ["build", "-t", tag, dir], { env: { DOCKER_HOST: host, DOCKER_BUILDKIT: "0", ...env }, timeoutMs: 600_000 });
    if (r.code !== 0) throw new Error(`docker build failed: ${r.stderr || r.stdout}`);
    return r.stdout;
  };
}
