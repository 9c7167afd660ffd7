import { invalidArgument, notImplemented } from "../../errdefs/index.js";
import type { DistributionService } from "../../services/distribution-service.js";
import type { ImagesService } from "../../services/types.js";
import { decodeRegistryAuth } from "../../spec/registry-auth.js";
import type { JsonMessage } from "../../spec/engine.js";
import type { ApiRequest } from "../api-request.js";
import type { ApiResponse, JsonMessageWriter } from "../api-response.js";
import { isCancelled, messageOf } from "../error-status.js";
import type { Route } from "../route.js";

/** `dist` is optional so the routes run over fake services in tests; without it pulls fail in the stream and pushes answer 501. */
export function imageRoutes(images: ImagesService, dist?: DistributionService): Route[] {
  return [
    {
      method: "GET", path: "/images/json",
      async handle(req, res) {
        const filters = req.query.filters();
        // API < 1.41 clients may still send the single-reference "filter" parameter.
        const legacy = req.query.get("filter");
        if (legacy) filters.reference = [...(filters.reference ?? []), legacy];
        res.json(await images.list({ all: req.query.bool("all"), filters, digests: req.query.bool("digests") }));
      },
    },
    {
      method: "POST", path: "/images/create",
      handle: (req, res) => createImage(images, dist, req, res),
    },
    {
      method: "POST", path: "/images/load",
      async handle(req, res) {
        const quiet = req.query.bool("quiet");
        // dockerd answers 200 at once and reports every load failure in the stream.
        const out = res.jsonStream();
        try {
          for await (const msg of images.load(req.body, { signal: req.signal })) {
            if (quiet && (msg.progress !== undefined || msg.progressDetail !== undefined)) continue;
            out.write(msg);
          }
        } catch (err) {
          if (req.signal.aborted || isCancelled(err)) return;
          req.body.resume();
          out.error(messageOf(err));
        }
        out.end();
      },
    },
    {
      method: "POST", path: "/images/prune",
      async handle(req, res) {
        const r = await images.prune({ filters: req.query.filters() });
        res.json({ ImagesDeleted: r.ImagesDeleted, SpaceReclaimed: r.SpaceReclaimed });
      },
    },
    {
      method: "GET", path: "/images/get",
      async handle(req, res) {
        const names = req.query.all("names").filter((n) => n !== "");
        if (names.length === 0) throw invalidArgument("no image names were given");
        await save(images, names, req, res);
      },
    },
    {
      method: "GET", path: "/images/search",
      handle() {
        throw notImplemented("image search is not implemented in Berth yet");
      },
    },
    {
      method: "GET", path: "/images/:name+/json",
      async handle(req, res) {
        res.json(await images.inspect(req.params.name!));
      },
    },
    {
      method: "GET", path: "/images/:name+/history",
      async handle(req, res) {
        res.json(await images.history(req.params.name!));
      },
    },
    {
      method: "GET", path: "/images/:name+/get",
      handle: (req, res) => save(images, [req.params.name!], req, res),
    },
    {
      method: "POST", path: "/images/:name+/tag",
      async handle(req, res) {
        const repo = req.query.get("repo");
        if (!repo) throw invalidArgument("repository name must have at least one component");
        await images.tag(req.params.name!, repo, req.query.get("tag") || undefined);
        res.end(201);
      },
    },
    {
      method: "POST", path: "/images/:name+/push",
      async handle(req, res) {
        if (!dist) throw notImplemented("pushing images is not implemented in Berth yet");
        req.body.resume();
        const auth = registryAuth(req);
        await streamMessages(req, res, dist.push(req.params.name!, {
          tag: req.query.get("tag") || undefined, signal: req.signal, ...(auth ? { auth } : {}),
        }));
      },
    },
    {
      method: "DELETE", path: "/images/:name+",
      async handle(req, res) {
        res.json(await images.remove(req.params.name!, { force: req.query.bool("force"), noprune: req.query.bool("noprune") }));
      },
    },
  ];
}

async function save(images: ImagesService, names: string[], req: ApiRequest, res: ApiResponse): Promise<void> {
  // Headers go out with the first byte, so a missing image is still a plain 404.
  res.status(200).header("Content-Type", "application/x-tar");
  await images.save(names, res.raw, { signal: req.signal });
  await res.bodyDone();
}

/** The X-Registry-Auth header, decoded (absent, empty or "{}" -> undefined: the service decides). */
function registryAuth(req: ApiRequest) {
  const h = req.headers["x-registry-auth"];
  return decodeRegistryAuth(Array.isArray(h) ? h[0] : h);
}

/**
 * A pull or push as a JSON-message stream. Like dockerd, a failure before the first message is a plain
 * HTTP error (the docker CLI prints "Error response from daemon: ..."); after it, an errorDetail line.
 */
async function streamMessages(req: ApiRequest, res: ApiResponse, messages: AsyncIterable<JsonMessage>): Promise<void> {
  let out: JsonMessageWriter | undefined;
  try {
    for await (const msg of messages) (out ??= res.jsonStream()).write(msg);
  } catch (err) {
    if (req.signal.aborted || isCancelled(err)) return;
    if (!out) throw err;
    out.error(messageOf(err));
  }
  (out ?? res.jsonStream()).end();
}

/** fromImage -> pull from a registry; fromSrc -> import from the request body. */
async function createImage(images: ImagesService, dist: DistributionService | undefined, req: ApiRequest, res: ApiResponse): Promise<void> {
  const q = req.query;
  const fromImage = q.get("fromImage");
  const fromSrc = q.get("fromSrc");
  if (fromImage) {
    req.body.resume();
    const tag = q.get("tag") ?? "";
    const ref = tag === "" ? fromImage : tag.startsWith("sha256:") ? `${fromImage}@${tag}` : `${fromImage}:${tag}`;
    if (!dist) {
      const out = res.jsonStream();
      out.error(`pull access is not available for ${ref}: pulling from registries is not implemented in Berth yet`);
      out.end();
      return;
    }
    // The API pulls every tag when the reference names none (the docker CLI always sends one unless -a).
    const nameOnly = tag === "" && !/@|:[^/]*$/.test(fromImage);
    const auth = registryAuth(req);
    await streamMessages(req, res, dist.pull(ref, {
      allTags: nameOnly, signal: req.signal,
      ...(q.get("platform") ? { platform: q.get("platform")! } : {}),
      ...(auth ? { auth } : {}),
    }));
    return;
  }
  if (!fromSrc) throw invalidArgument("either fromImage or fromSrc must be given");
  if (fromSrc !== "-") throw notImplemented("importing from a URL is not implemented in Berth yet; use fromSrc=- with the tar as the request body");
  let out: JsonMessageWriter | undefined;
  const write = (m: JsonMessage) => (out ??= res.jsonStream()).write(m);
  try {
    const id = await images.import(req.body, {
      repo: q.get("repo") || undefined,
      tag: q.get("tag") || undefined,
      message: q.get("message") || undefined,
      changes: q.all("changes").filter((c) => c !== ""),
      signal: req.signal,
    });
    write({ status: id });
  } catch (err) {
    // Before the first message a failure is a plain HTTP error, as in dockerd.
    if (!out) throw err;
    if (req.signal.aborted || isCancelled(err)) return;
    out.error(messageOf(err));
  }
  out?.end();
}
