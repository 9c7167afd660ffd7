export * from "./atomic-write.js";
export * from "./digest.js";
export * from "./ids.js";
export * from "./logger.js";
export * from "./time.js";
export * from "./mutex.js";
export * from "./peek-stream.js";
export * from "./stopwatch.js";
