import { invalidArgument, notFound } from "../errdefs/index.js";
import type { Descriptor, Platform } from "../spec/oci-image.js";

const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

export function hostPlatform(): Platform {
  const architecture = ARCH[process.arch] ?? process.arch;
  return { os: "linux", architecture, ...(architecture === "arm64" ? { variant: "v8" } : {}) };
}

/** "linux/arm64/v8", "linux", "amd64" -> a platform (defaults from the host). */
export function parsePlatform(s: string | undefined): Platform {
  if (!s) return hostPlatform();
  const parts = s.toLowerCase().split("/");
  if (parts.some((p) => !p) || parts.length > 3) throw invalidArgument(`"${s}": unknown operating system or architecture: invalid argument`);
  const host = hostPlatform();
  let os = parts[0]!;
  let arch = parts[1];
  if (parts.length === 1 && os !== "linux" && os !== "windows") { arch = os; os = "linux"; }
  const architecture = arch === "x86_64" ? "amd64" : arch === "aarch64" ? "arm64" : (arch ?? host.architecture);
  let variant = parts[2];
  if (architecture === "arm64" && !variant) variant = "v8";
  return { os, architecture, ...(variant ? { variant } : {}) };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** Pick the manifest for `want` from an index, like containerd's platform matcher (variant-tolerant for arm64). */
export function selectManifest(manifests: Descriptor[], want: Platform, name: string): Descriptor {
  const candidates = manifests.filter((m) => {
    const p = m.platform;
    if (!p) return false;
    if (p.os !== want.os || p.architecture !== want.architecture) return false;
    const v = p.variant ?? (p.architecture === "arm64" ? "v8" : undefined);
    return !want.variant || !v || v === want.variant;
  });
  const exact = candidates.find((m) => (m.platform?.variant ?? undefined) === want.variant) ?? candidates[0];
  if (!exact) throw notFound(`no matching manifest for ${formatPlatform(want)} in the manifest list entries: ${name}`);
  return exact;
}
