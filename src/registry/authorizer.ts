import { createHash, type KeyObject } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import bcrypt from "bcryptjs";
import { verifyToken, type Access } from "./jwt.js";
import { ociError, type OciError } from "./oci-error.js";

/** What a request needs, in the token scope grammar: repository:<name>:pull,push or registry:catalog:*. */
export type Scope = Access;

export interface Authorizer {
  /** Resolves when the request may proceed; throws UNAUTHORIZED (with its challenge) or DENIED otherwise. */
  authorize(req: IncomingMessage, needed: Scope[]): Promise<void>;
}

export const allowAll: Authorizer = { authorize: async () => {} };

function scopeString(s: Scope): string {
  return `${s.type}:${s.name}:${s.actions.join(",")}`;
}

function challenged(err: OciError, header: string): OciError {
  err.headers["WWW-Authenticate"] = header;
  return err;
}

function basicCredentials(req: IncomingMessage): { user: string; password: string } | null {
  const h = req.headers.authorization;
  if (!h || !/^basic /i.test(h)) return null;
  const decoded = Buffer.from(h.slice(6).trim(), "base64").toString("utf8");
  const i = decoded.indexOf(":");
  if (i < 0) return null;
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** HTTP Basic against an htpasswd file of bcrypt hashes (what `htpasswd -B` writes), like the CNCF registry. */
export class HtpasswdAuthorizer implements Authorizer {
  #users = new Map<string, string>();
  #mtime = 0;
  #checkedAt = 0;
  readonly #verified = new Map<string, number>();

  constructor(readonly file: string, readonly realm = "Berth Registry") {}

  async #load(): Promise<void> {
    const now = Date.now();
    if (now - this.#checkedAt < 5000 && this.#users.size) return;
    this.#checkedAt = now;
    const st = await stat(this.file);
    if (st.mtimeMs === this.#mtime) return;
    const users = new Map<string, string>();
    for (const line of (await readFile(this.file, "utf8")).split("\n")) {
      const t = line.trim();
      if (!t || t.startsWith("#")) continue;
      const i = t.indexOf(":");
      if (i > 0) users.set(t.slice(0, i), t.slice(i + 1));
    }
    this.#users = users;
    this.#mtime = st.mtimeMs;
    this.#verified.clear();
  }

  /** True when user and password match (bcrypt only; results are cached briefly so chunked pushes stay fast). */
  async check(user: string, password: string): Promise<boolean> {
    await this.#load();
    const hash = this.#users.get(user);
    if (!hash || !/^\$2[abxy]\$/.test(hash)) return false;
    const key = createHash("sha256").update(`${user}\0${password}\0${hash}`).digest("hex");
    const until = this.#verified.get(key);
    if (until && until > Date.now()) return true;
    const ok = await bcrypt.compare(password, hash.replace(/^\$2y\$/, "$2b$"));
    if (ok) this.#verified.set(key, Date.now() + 5 * 60_000);
    return ok;
  }

  async authorize(req: IncomingMessage): Promise<void> {
    const creds = basicCredentials(req);
    if (creds && await this.check(creds.user, creds.password)) return;
    throw challenged(ociError("UNAUTHORIZED"), `Basic realm="${this.realm}"`);
  }
}

/** Bearer tokens issued by an external token server (Docker's token flow), verified with its public key. */
export class TokenAuthorizer implements Authorizer {
  constructor(readonly opts: { realm: string; service: string; issuer: string; key: KeyObject }) {}

  #challenge(needed: Scope[], error?: string): string {
    let h = `Bearer realm="${this.opts.realm}",service="${this.opts.service}"`;
    if (needed.length) h += `,scope="${needed.map(scopeString).join(" ")}"`;
    if (error) h += `,error="${error}"`;
    return h;
  }

  async authorize(req: IncomingMessage, needed: Scope[]): Promise<void> {
    const h = req.headers.authorization;
    const detail = needed.map((s) => ({ Type: s.type, Name: s.name, Action: s.actions.join(",") }));
    if (!h || !/^bearer /i.test(h)) throw challenged(ociError("UNAUTHORIZED", undefined, detail), this.#challenge(needed));
    let access: Access[];
    try {
      access = verifyToken(h.slice(7).trim(), this.opts.key, { issuer: this.opts.issuer, service: this.opts.service }).access;
    } catch (err) {
      throw challenged(ociError("UNAUTHORIZED", (err as Error).message, detail), this.#challenge(needed, "invalid_token"));
    }
    for (const s of needed) {
      const granted = access.filter((a) => a.type === s.type && a.name === s.name).flatMap((a) => a.actions);
      if (!s.actions.every((act) => granted.includes(act) || granted.includes("*"))) {
        throw challenged(ociError("UNAUTHORIZED", "insufficient scope", detail), this.#challenge(needed, "insufficient_scope"));
      }
    }
  }
}
