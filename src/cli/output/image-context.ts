import type { ImageSummary } from "../../spec/engine.js";
import { familiarName, parseReference } from "../../spec/reference.js";
import { TemplateContext } from "./template.js";
import { goTimeString, humanSize, shortId, timeAgo } from "./units.js";

export const IMAGE_TABLE = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
export const IMAGE_TABLE_DIGESTS = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}";
export const IMAGE_HEADERS: Record<string, string> = {
  ID: "IMAGE ID", Repository: "REPOSITORY", Tag: "TAG", Digest: "DIGEST", CreatedSince: "CREATED", CreatedAt: "CREATED AT",
  Size: "SIZE", Containers: "CONTAINERS", SharedSize: "SHARED SIZE", UniqueSize: "UNIQUE SIZE", VirtualSize: "VIRTUAL SIZE",
};

function isDangling(i: ImageSummary): boolean {
  const tags = i.RepoTags ?? [], digests = i.RepoDigests ?? [];
  return (tags.length === 0 && digests.length === 0) ||
    (tags.length === 1 && tags[0] === "<none>:<none>" && digests.length === 1 && digests[0] === "<none>@<none>");
}

function context(i: ImageSummary, repo: string, tag: string, digest: string, trunc: boolean, now?: number): TemplateContext {
  return new TemplateContext("*formatter.imageContext", {
    ID: () => (trunc ? shortId(i.Id) : i.Id),
    Repository: () => repo,
    Tag: () => tag,
    Digest: () => digest || "<none>",
    CreatedSince: () => timeAgo(i.Created * 1000, now),
    CreatedAt: () => goTimeString(new Date(i.Created * 1000)),
    Size: () => humanSize(i.Size),
    Containers: () => (i.Containers === -1 || i.Containers === undefined ? "N/A" : String(i.Containers)),
    SharedSize: () => (i.SharedSize === -1 || i.SharedSize === undefined ? "N/A" : humanSize(i.SharedSize, 4)),
    UniqueSize: () => (i.SharedSize === -1 || i.SharedSize === undefined ? "N/A" : humanSize(i.Size - i.SharedSize, 4)),
    VirtualSize: () => humanSize(i.VirtualSize ?? i.Size, 4),
  });
}

/** Rows of `images`: one per (repository, tag), digests as docker shows them. */
export function imageContexts(images: ImageSummary[], opts: { trunc: boolean; digests: boolean; now?: number }): TemplateContext[] {
  const rows: TemplateContext[] = [];
  for (const image of images) {
    if (isDangling(image)) { rows.push(context(image, "<none>", "<none>", "<none>", opts.trunc, opts.now)); continue; }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const s of image.RepoTags ?? []) {
      try {
        const ref = parseReference(s);
        if (ref.tag) { const n = familiarName(ref); repoTags.set(n, [...(repoTags.get(n) ?? []), ref.tag]); }
      } catch { /* skip what does not parse */ }
    }
    for (const s of image.RepoDigests ?? []) {
      try {
        const ref = parseReference(s);
        if (ref.digest) { const n = familiarName(ref); repoDigests.set(n, [...(repoDigests.get(n) ?? []), ref.digest]); }
      } catch { /* skip */ }
    }
    for (const [repo, tags] of repoTags) {
      let digests = repoDigests.get(repo) ?? [];
      repoDigests.delete(repo);
      if (!opts.digests) digests = [];
      for (const tag of tags) {
        if (!digests.length) { rows.push(context(image, repo, tag, "<none>", opts.trunc, opts.now)); continue; }
        for (const d of digests) rows.push(context(image, repo, tag, d, opts.trunc, opts.now));
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (opts.digests) for (const d of digests) rows.push(context(image, repo, "<none>", d, opts.trunc, opts.now));
      else rows.push(context(image, repo, "<none>", "", opts.trunc, opts.now));
    }
  }
  return rows;
}
