import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { invalidArgument, systemError } from "../errdefs/index.js";
import { atomicWrite } from "../util/index.js";
import { normalizeAuth, type AuthConfig } from "./auth-config.js";

interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string; email?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

export function defaultDockerConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG || join(homedir(), ".docker");
  return join(dir, "config.json");
}

function runHelper(helper: string, action: "get" | "store" | "erase", input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, [action], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => { out += d; });
    child.stderr.setEncoding("utf8").on("data", (d: string) => { err += d; });
    child.once("error", (e) => reject(systemError(`credential helper docker-credential-${helper}: ${e.message}`, { cause: e })));
    child.once("close", (code) => {
      if (code === 0) resolve(out);
      else reject(systemError(`error ${action === "get" ? "getting" : action === "store" ? "storing" : "erasing"} credentials - err: exit status ${code}, out: \`${(out || err).trim()}\``));
    });
    child.stdin.end(input);
  });
}

/** Credentials in the docker config file format: auths (base64 user:password), credsStore and credHelpers. */
export class DockerConfigCredentials {
  constructor(readonly path: string = defaultDockerConfigPath()) {}

  async #read(): Promise<ConfigFile> {
    try {
      return JSON.parse(await readFile(this.path, "utf8")) as ConfigFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw invalidArgument(`loading config file ${this.path}: ${(err as Error).message}`);
    }
  }

  #helperFor(cfg: ConfigFile, key: string): string | undefined {
    return cfg.credHelpers?.[key] ?? cfg.credsStore;
  }

  async get(key: string): Promise<AuthConfig | undefined> {
    const cfg = await this.#read();
    const helper = this.#helperFor(cfg, key);
    if (helper) {
      try {
        const r = JSON.parse(await runHelper(helper, "get", key)) as { Username: string; Secret: string };
        return r.Username === "<token>" ? { identitytoken: r.Secret, serveraddress: key } : { username: r.Username, password: r.Secret, serveraddress: key };
      } catch {
        return undefined;
      }
    }
    const e = cfg.auths?.[key] ?? cfg.auths?.[`https://${key}`] ?? cfg.auths?.[`http://${key}`];
    if (!e) return undefined;
    return normalizeAuth({ ...e, serveraddress: key });
  }

  async store(key: string, auth: AuthConfig): Promise<void> {
    const cfg = await this.#read();
    const helper = this.#helperFor(cfg, key);
    const a = normalizeAuth(auth) ?? {};
    if (helper) {
      const secret = a.identitytoken ?? a.password ?? "";
      await runHelper(helper, "store", JSON.stringify({ ServerURL: key, Username: a.identitytoken ? "<token>" : a.username, Secret: secret }));
      cfg.auths ??= {};
      cfg.auths[key] = {};
    } else {
      cfg.auths ??= {};
      const entry: { auth?: string; identitytoken?: string } = {};
      if (a.username !== undefined) entry.auth = Buffer.from(`${a.username}:${a.password ?? ""}`).toString("base64");
      if (a.identitytoken) entry.identitytoken = a.identitytoken;
      cfg.auths[key] = entry;
    }
    await atomicWrite(this.path, JSON.stringify(cfg, null, "\t") + "\n", 0o600);
  }

  async erase(key: string): Promise<boolean> {
    const cfg = await this.#read();
    const helper = this.#helperFor(cfg, key);
    const had = !!cfg.auths?.[key];
    if (helper) await runHelper(helper, "erase", key).catch(() => {});
    if (cfg.auths) delete cfg.auths[key];
    await atomicWrite(this.path, JSON.stringify(cfg, null, "\t") + "\n", 0o600);
    return had || !!helper;
  }
}
