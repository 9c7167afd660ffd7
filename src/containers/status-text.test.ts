import assert from "node:assert/strict";
import { test } from "node:test";
import { statusText } from "./status-text.js";

test("statusText: a running container's health follows its uptime; paused and stopped ones do not show it", () => {
  const now = Date.parse("2026-01-01T00:10:00Z");
  const base = { exitCode: 0, startedAt: "2026-01-01T00:09:55Z", finishedAt: "2026-01-01T00:09:00Z" };
  assert.equal(statusText({ ...base, status: "running", health: "starting" }, now), "Up 5 seconds (health: starting)");
  assert.equal(statusText({ ...base, status: "running", health: "healthy" }, now), "Up 5 seconds (healthy)");
  assert.equal(statusText({ ...base, status: "running", health: "unhealthy" }, now), "Up 5 seconds (unhealthy)");
  assert.equal(statusText({ ...base, status: "running" }, now), "Up 5 seconds");
  assert.equal(statusText({ ...base, status: "paused", health: "healthy" }, now), "Up 5 seconds (Paused)");
  assert.equal(statusText({ ...base, status: "exited", health: "unhealthy" }, now), "Exited (0) About a minute ago");
});
