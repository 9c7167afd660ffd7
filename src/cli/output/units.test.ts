import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesSize, ellipsis, formatG, humanDuration, humanSize, shortId, timeAgo } from "./units.js";
import { fromHumanSize, parseGoDuration, ramInBytes, timestampArg } from "./parse-units.js";

test("sizes like docker/go-units", () => {
  assert.equal(humanSize(0), "0B");
  assert.equal(humanSize(100), "100B");
  assert.equal(humanSize(1230), "1.23kB");
  assert.equal(humanSize(7_800_000), "7.8MB");
  assert.equal(humanSize(1_984_000), "1.98MB");
  assert.equal(humanSize(1_984_000, 4), "1.984MB");
  assert.equal(humanSize(2_100_000_000), "2.1GB");
  assert.equal(humanSize(999_999), "1e+03kB");
  assert.equal(bytesSize(8_335_585_280), "7.763GiB");
  assert.equal(formatG(0.0001234, 3), "0.000123");
});

test("human durations and 'ago'", () => {
  assert.equal(humanDuration(500), "Less than a second");
  assert.equal(humanDuration(1000), "1 second");
  assert.equal(humanDuration(5_000), "5 seconds");
  assert.equal(humanDuration(60_000), "About a minute");
  assert.equal(humanDuration(5 * 60_000), "5 minutes");
  assert.equal(humanDuration(3_600_000), "About an hour");
  assert.equal(humanDuration(5 * 3_600_000), "5 hours");
  assert.equal(humanDuration(3 * 86_400_000), "3 days");
  assert.equal(humanDuration(21 * 86_400_000), "3 weeks");
  assert.equal(humanDuration(90 * 86_400_000), "3 months");
  assert.equal(humanDuration(3 * 365 * 86_400_000), "3 years");
  assert.equal(timeAgo(1_000_000, 1_005_000), "5 seconds ago");
});

test("ellipsis and ids", () => {
  assert.equal(ellipsis("sh -c 'echo started; sleep 60'", 20), "sh -c 'echo started…");
  assert.equal(ellipsis("short", 20), "short");
  assert.equal(shortId("sha256:4b6eb9f5411eecf02597352c7f3b4209"), "4b6eb9f5411e");
});

test("durations, sizes and --since timestamps parse like the docker CLI", () => {
  assert.equal(parseGoDuration("10m"), 600_000);
  assert.equal(parseGoDuration("1h30m"), 5_400_000);
  assert.equal(parseGoDuration("1.5s"), 1500);
  assert.equal(parseGoDuration("300ms"), 300);
  assert.throws(() => parseGoDuration("10x"), /invalid duration/);
  assert.equal(ramInBytes("512m"), 512 * 1024 * 1024);
  assert.equal(ramInBytes("1g"), 1024 ** 3);
  assert.equal(ramInBytes("100"), 100);
  assert.equal(ramInBytes("2MiB"), 2 * 1024 * 1024);
  assert.throws(() => ramInBytes("lots"), /invalid size/);
  assert.equal(fromHumanSize("2GB"), 2e9);
  const now = Date.UTC(2024, 0, 1, 12, 0, 0);
  assert.equal(timestampArg("10m", now), `${now / 1000 - 600}.000000000`);
  assert.equal(timestampArg("2024-01-01T11:00:00Z", now), `${now / 1000 - 3600}.000000000`);
  assert.equal(timestampArg("2024-01-01T11:00:00.5Z", now), `${now / 1000 - 3600}.500000000`);
  assert.equal(timestampArg("1704106800", now), "1704106800");
  assert.throws(() => timestampArg("yesterday", now), /failed to parse/);
});
