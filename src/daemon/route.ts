import type { ApiRequest } from "./api-request.js";
import type { ApiResponse } from "./api-response.js";

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "DELETE";

/**
 * A route is data: a method, a path pattern and a handler that only translates HTTP to a service call.
 * Pattern segments: ":id" matches one segment; ":name+" matches one or more (image names have slashes).
 */
export interface Route {
  method: HttpMethod;
  path: string;
  handle(req: ApiRequest, res: ApiResponse): Promise<void> | void;
}
