import type { HttpMethod, Route } from "./route.js";

interface Compiled {
  route: Route;
  re: RegExp;
  names: string[];
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/** Matches unversioned paths against route patterns, in registration order. */
export class Router {
  #routes: Compiled[] = [];

  constructor(routes: Iterable<Route> = []) {
    for (const r of routes) this.add(r);
  }

  add(route: Route): void {
    const names: string[] = [];
    const src = route.path
      .split("/")
      .map((seg) => {
        const m = /^:([A-Za-z_][A-Za-z0-9_]*)(\+?)$/.exec(seg);
        if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        names.push(m[1]!);
        return m[2] ? "(.+)" : "([^/]+)";
      })
      .join("/");
    this.#routes.push({ route, re: new RegExp(`^${src}/?$`), names });
  }

  match(method: string, path: string): RouteMatch | undefined {
    for (const c of this.#routes) {
      if (c.route.method !== (method as HttpMethod)) continue;
      const m = c.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      c.names.forEach((n, i) => {
        params[n] = safeDecode(m[i + 1]!);
      });
      return { route: c.route, params };
    }
    return undefined;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
