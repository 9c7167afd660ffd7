export * from "./client.js";
export * from "./demux.js";
export * from "./errors.js";
export * from "./filters.js";
export * from "./host.js";
export * from "./json-messages.js";
export * from "./transport.js";
export type * from "./types.js";
