export * from "./mount-request.js";
export * from "./local-volume-store.js";
