import { randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { messageError } from "../../../client/json-messages.js";
import { ARCHIVE_HEAD_BYTES, isArchiveHead } from "../../../spec/archive-magic.js";
import { peekStream } from "../../../util/index.js";
import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { bool, string, strings } from "../../flags.js";
import { BuildProgress, type StepEvent } from "./build-progress.js";
import { dockerfileOnlyContext, packContext, type ContextExtra } from "./pack-context.js";
import { parseSecret } from "./parse-secret.js";

export const build: Command = {
  name: "image build",
  summary: "Build an image from a Dockerfile",
  usage: "[OPTIONS] PATH | URL | -",
  minArgs: 1,
  maxArgs: 1,
  flags: {
    tag: strings("t", "Name and optionally a tag in the \"name:tag\" format"),
    file: string("f", "Name of the Dockerfile (Default is \"PATH/Dockerfile\")"),
    target: string("", "Set the target build stage to build"),
    "build-arg": strings("", "Set build-time variables"),
    label: strings("", "Set metadata for an image"),
    "no-cache": bool("", "Do not use cache when building the image"),
    quiet: bool("q", "Suppress the build output and print image ID on success"),
    pull: bool("", "Always attempt to pull a newer version of the image"),
    network: string("", "Set the networking mode for the RUN instructions during build", { default: "default" }),
    progress: string("", "Set type of progress output (auto, plain, tty)", { default: "auto" }),
    explain: bool("", "Print the cache key inputs of every step"),
    secret: strings("", "Secret to expose to RUN --mount=type=secret (format: \"id=mysecret[,src=/local/secret]\" or \"id=x,env=VAR\")"),
    "cache-from": strings("", "Images to consider as cache sources"),
  },
  async run({ client, args, flags, out, stdin, env }) {
    const progressMode = flags.string("progress");
    if (!["auto", "plain", "tty"].includes(progressMode)) throw new StatusError(`invalid progress mode "${progressMode}": use auto, plain or tty`, 1);
    const quiet = flags.bool("quiet");
    const tty = progressMode === "tty" || (progressMode === "auto" && out.isTTY);
    const target = args[0]!;
    const fileFlag = flags.string("file");
    let dockerfile: string | undefined;
    let context: Readable | null = null;
    let remote: string | undefined;

    if (target === "-") {
      if (fileFlag === "-") throw new StatusError("invalid argument: can't use stdin for both build context and dockerfile", 1);
      if (stdin.isTTY) throw new StatusError("unable to prepare context: the build context on stdin is empty", 1);
      const { head, stream } = await peekStream(stdin, ARCHIVE_HEAD_BYTES);
      if (isArchiveHead(head)) {
        context = stream;
        dockerfile = fileFlag || undefined;
      } else {
        const chunks: Buffer[] = [];
        for await (const c of stream) chunks.push(c as Buffer);
        context = dockerfileOnlyContext(Buffer.concat(chunks));
      }
    } else if (/^https?:\/\//.test(target) || /^git(@|:\/\/)/.test(target)) {
      remote = target;
      dockerfile = fileFlag || undefined;
    } else {
      const dir = resolve(target);
      const st = await stat(dir).catch(() => null);
      if (!st) throw new StatusError(`unable to prepare context: path "${target}" not found`, 1);
      if (!st.isDirectory()) throw new StatusError(`unable to prepare context: context must be a directory: ${dir}`, 1);
      let extra: ContextExtra | undefined;
      if (fileFlag === "-") {
        if (stdin.isTTY) throw new StatusError("unable to prepare context: the Dockerfile on stdin is empty", 1);
        const chunks: Buffer[] = [];
        for await (const c of stdin) chunks.push(c as Buffer);
        extra = { name: `.dockerfile.${randomBytes(10).toString("hex")}`, data: Buffer.concat(chunks) };
        dockerfile = extra.name;
      } else {
        const path = fileFlag ? resolve(fileFlag) : resolve(dir, "Dockerfile");
        const dst = await stat(path).catch(() => null);
        if (!dst) throw new StatusError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${path}: no such file or directory`, 1);
        const rel = relative(dir, path);
        if (rel && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel)) {
          dockerfile = rel.split(sep).join("/");
        } else {
          extra = { name: `.dockerfile.${randomBytes(10).toString("hex")}`, data: await readFile(path) };
          dockerfile = extra.name;
        }
      }
      context = await packContext(dir, { ...(dockerfile ? { dockerfile } : {}), ...(extra ? { extra } : {}) });
    }

    const buildArgs: Record<string, string> = {};
    for (const a of flags.strings("build-arg")) {
      const i = a.indexOf("=");
      if (i < 0) {
        if (env[a] !== undefined) buildArgs[a] = env[a]!;
      } else buildArgs[a.slice(0, i)] = a.slice(i + 1);
    }
    const labels: Record<string, string> = {};
    for (const l of flags.strings("label")) {
      const i = l.indexOf("=");
      labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? "" : l.slice(i + 1);
    }
    const secrets: Record<string, Buffer> = {};
    for (const s of flags.strings("secret")) {
      const { id, data } = await parseSecret(s, env);
      secrets[id] = data;
    }

    const ac = new AbortController();
    const onSignal = () => ac.abort();
    process.once("SIGINT", onSignal);
    const progress = new BuildProgress(out.stdout, tty ? "tty" : "plain", (out.stdout as NodeJS.WriteStream).columns || 80);
    const started = Date.now();
    let imageId = "";
    const tagged: string[] = [];
    try {
      const messages = await client.build.build(context, {
        tags: flags.strings("tag"), ...(dockerfile ? { dockerfile } : {}), target: flags.string("target"),
        buildArgs, labels, noCache: flags.bool("no-cache"), pull: flags.bool("pull"), quiet,
        networkMode: flags.string("network") === "default" ? "" : flags.string("network"),
        cacheFrom: flags.strings("cache-from"), ...(remote ? { remote } : {}),
        explain: flags.bool("explain"), events: !quiet, secrets, signal: ac.signal,
      });
      for await (const m of messages) {
        const error = messageError(m);
        if (error !== undefined) {
          if (!quiet) progress.fail();
          throw new StatusError(error, 1);
        }
        if (m.id === "berth.step" && m.aux) progress.step(m.aux as StepEvent);
        else if (m.id === "berth.tagged" && m.aux) tagged.push((m.aux as { name: string }).name);
        else if (m.aux && typeof (m.aux as { ID?: unknown }).ID === "string") imageId = (m.aux as { ID: string }).ID;
        else if (m.stream !== undefined && !quiet) progress.output(m.stream);
      }
    } finally {
      progress.close();
      process.removeListener("SIGINT", onSignal);
    }
    if (!imageId) throw new StatusError("the build ended without an image id", 1);
    if (quiet) {
      out.line(imageId);
      return;
    }
    const cached = progress.steps.filter((s) => s.state === "cached").length;
    out.line(`${progress.steps.length} steps, ${cached} cached, ${progress.rebuilt.length} rebuilt in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    out.line(`Built ${imageId}`);
    for (const t of tagged) out.line(`Tagged ${t}`);
  },
};
