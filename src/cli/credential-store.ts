/**
 * Registry credentials in the docker CLI's config file (~/.docker/config.json or $DOCKER_CONFIG/config.json):
 * "auths" entries with base64 user:password (or an identity token), or a credential helper named by
 * "credsStore"/"credHelpers". The CLI keeps them, as docker does; the daemon only sees them per request.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseReference } from "../spec/reference.js";
import { atomicWrite } from "../util/index.js";

/** The key docker uses for Docker Hub in config.json and X-Registry-Auth. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

export interface RegistryAuth {
  username?: string;
  password?: string;
  serveraddress?: string;
  identitytoken?: string;
}

interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string; email?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(homedir(), ".docker"), "config.json");
}

/** What a user typed for login/logout ("127.0.0.1:5000", "https://host/v2/", "docker.io") as docker's config key. */
export function serverKey(server: string | undefined): string {
  if (!server) return DOCKER_HUB_AUTH_KEY;
  const host = server.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  if (["docker.io", "index.docker.io", "registry-1.docker.io"].includes(host)) return DOCKER_HUB_AUTH_KEY;
  return host;
}

/** The config key for the registry an image reference lives on. */
export function serverKeyOfImage(image: string): string {
  return serverKey(parseReference(image).domain);
}

/** X-Registry-Auth: base64url JSON, as the docker CLI sends it. */
export function encodeRegistryAuth(auth: RegistryAuth): string {
  return Buffer.from(JSON.stringify(auth)).toString("base64url");
}

function runHelper(helper: string, action: "get" | "store" | "erase", input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, [action], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => { out += d; });
    child.stderr.resume();
    child.once("error", (e) => reject(new Error(`credential helper docker-credential-${helper}: ${e.message}`)));
    child.once("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`error ${action === "get" ? "getting" : action === "store" ? "storing" : "erasing"} credentials - err: exit status ${code}, out: \`${out.trim()}\``));
    });
    child.stdin.end(input);
  });
}

export class CredentialStore {
  constructor(readonly path: string = dockerConfigPath()) {}

  async #read(): Promise<ConfigFile> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw err;
    }
    if (text.trim() === "") return {};
    try {
      return JSON.parse(text) as ConfigFile;
    } catch (err) {
      throw new Error(`loading config file: ${this.path}: ${(err as Error).message}`);
    }
  }

  async #write(cfg: ConfigFile): Promise<void> {
    await atomicWrite(this.path, JSON.stringify(cfg, null, "\t") + "\n", 0o600);
  }

  /** The helper that stores `key`'s credentials, if the config names one. */
  async helperFor(key: string): Promise<string | undefined> {
    const cfg = await this.#read();
    return cfg.credHelpers?.[key] ?? cfg.credsStore;
  }

  async get(key: string): Promise<RegistryAuth | undefined> {
    const cfg = await this.#read();
    const helper = cfg.credHelpers?.[key] ?? cfg.credsStore;
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
    const out: RegistryAuth = { serveraddress: key };
    if (e.auth) {
      const s = Buffer.from(e.auth, "base64").toString("utf8");
      const i = s.indexOf(":");
      if (i > 0) { out.username = s.slice(0, i); out.password = s.slice(i + 1); }
    }
    if (e.identitytoken) out.identitytoken = e.identitytoken;
    return out.username || out.identitytoken ? out : undefined;
  }

  async store(key: string, auth: RegistryAuth): Promise<void> {
    const cfg = await this.#read();
    const helper = cfg.credHelpers?.[key] ?? cfg.credsStore;
    cfg.auths ??= {};
    if (helper) {
      await runHelper(helper, "store", JSON.stringify({
        ServerURL: key, Username: auth.identitytoken ? "<token>" : auth.username, Secret: auth.identitytoken ?? auth.password ?? "",
      }));
      cfg.auths[key] = {};
    } else {
      const entry: { auth?: string; identitytoken?: string } = {};
      // With an identity token docker keeps only the user name beside it, never the password.
      if (auth.username !== undefined) entry.auth = Buffer.from(`${auth.username}:${auth.identitytoken ? "" : auth.password ?? ""}`).toString("base64");
      if (auth.identitytoken) entry.identitytoken = auth.identitytoken;
      cfg.auths[key] = entry;
    }
    await this.#write(cfg);
  }

  /** Forget `key`; false when there was nothing stored for it. */
  async erase(key: string): Promise<boolean> {
    const cfg = await this.#read();
    const helper = cfg.credHelpers?.[key] ?? cfg.credsStore;
    const had = !!cfg.auths && key in cfg.auths;
    if (helper) await runHelper(helper, "erase", key).catch(() => {});
    if (!had && !helper) return false;
    if (cfg.auths) delete cfg.auths[key];
    await this.#write(cfg);
    return true;
  }
}

/** The X-Registry-Auth value for an image's registry from the stored credentials; undefined when none. */
export async function registryAuthFor(image: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  let key: string;
  try {
    key = serverKeyOfImage(image);
  } catch {
    return undefined;   // a bad name: the daemon gives the error
  }
  const auth = await new CredentialStore(dockerConfigPath(env)).get(key).catch(() => undefined);
  return auth ? encodeRegistryAuth(auth) : undefined;
}
