import { invalidArgument } from "../../errdefs/index.js";
import type { BuildOptions, BuildService } from "../../services/build-service.js";
import type { ApiRequest } from "../api-request.js";
import { isCancelled, messageOf } from "../error-status.js";
import type { Route } from "../route.js";

/** POST /build as Docker's classic builder speaks it, plus the build-cache endpoints. */
export function buildRoutes(builder: BuildService): Route[] {
  return [
    {
      method: "POST", path: "/build",
      async handle(req, res) {
        const opts = buildOptions(req);
        const out = res.jsonStream();
        try {
          for await (const msg of builder.build(req.body, opts)) out.write(msg);
        } catch (err) {
          if (req.signal.aborted || isCancelled(err)) return;
          out.error(messageOf(err));
        }
        out.end();
      },
    },
    {
      method: "POST", path: "/build/prune",
      async handle(req, res) {
        const r = await builder.prune({ all: req.query.bool("all"), filters: req.query.filters() });
        res.json(r);
      },
    },
  ];
}

function jsonMap(req: ApiRequest, name: string): Record<string, string> {
  const raw = req.query.get(name);
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidArgument(`invalid ${name} parameter: not a JSON object`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw invalidArgument(`invalid ${name} parameter: not a JSON object`);
  // A build arg sent as null means "take it from the client's environment", which the client has already done.
  return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).filter(([, v]) => typeof v === "string")) as Record<string, string>;
}

/** Berth extension: X-Berth-Build-Secrets = base64 of a JSON object {id: base64 value}. */
function secretsOf(req: ApiRequest): Record<string, Buffer> | undefined {
  const raw = req.headers["x-berth-build-secrets"];
  if (typeof raw !== "string" || !raw) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, "base64").toString("utf8"));
  } catch {
    throw invalidArgument("invalid X-Berth-Build-Secrets header: not base64 JSON");
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw invalidArgument("invalid X-Berth-Build-Secrets header: not a JSON object");
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof v !== "string") throw invalidArgument(`invalid X-Berth-Build-Secrets header: secret ${k} is not a string`);
    out[k] = Buffer.from(v, "base64");
  }
  return out;
}

/** A JSON array of strings (cachefrom); a bare string is taken as a one-item list. */
function stringList(raw: string, name: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [raw];
  }
  if (typeof parsed === "string") return [parsed];
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === "string")) throw invalidArgument(`invalid ${name} parameter: not a JSON array of strings`);
  return parsed as string[];
}

function buildOptions(req: ApiRequest): BuildOptions {
  const q = req.query;
  const cacheFrom = q.get("cachefrom");
  return {
    dockerfile: q.get("dockerfile") || undefined,
    tags: q.all("t").filter(Boolean),
    target: q.get("target") || undefined,
    buildArgs: jsonMap(req, "buildargs"),
    labels: jsonMap(req, "labels"),
    noCache: q.bool("nocache"),
    pull: q.bool("pull"),
    quiet: q.bool("q"),
    rm: q.get("rm") === undefined ? true : q.bool("rm"),
    forceRm: q.bool("forcerm"),
    cacheFrom: cacheFrom ? stringList(cacheFrom, "cachefrom") : undefined,
    networkMode: q.get("networkmode") || undefined,
    shmSize: q.int("shmsize"),
    memory: q.int("memory"),
    extraHosts: (q.get("extrahosts") ?? "").split(",").filter(Boolean),
    explain: q.bool("explain"),
    events: q.bool("berthevents"),
    remote: q.get("remote") || undefined,
    secrets: secretsOf(req),
    signal: req.signal,
  };
}
