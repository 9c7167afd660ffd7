import { test } from "node:test";
import assert from "node:assert/strict";
import { tabwrite } from "./tabwriter.js";
import { displayablePorts } from "./ports.js";
import { renderList } from "./list-format.js";
import { CONTAINER_HEADERS, CONTAINER_TABLE, containerContext } from "./container-context.js";
import { IMAGE_HEADERS, IMAGE_TABLE, imageContexts } from "./image-context.js";
import type { ContainerSummary, ImageSummary } from "../../spec/engine.js";

test("tabwriter: min width 10, padding 3, last cell unpadded", () => {
  assert.equal(tabwrite("REPOSITORY\tTAG\tIMAGE ID\nbusybox\tlatest\t4b6eb9f5411e\n"),
    "REPOSITORY   TAG       IMAGE ID\nbusybox      latest    4b6eb9f5411e\n");
  assert.equal(tabwrite("a\tb\n\tc\n"), "a         b\n          c\n");
});

test("ports column groups ranges and lists host mappings last", () => {
  assert.equal(displayablePorts([]), "");
  assert.equal(displayablePorts([{ PrivatePort: 9988, Type: "tcp" }]), "9988/tcp");
  assert.equal(displayablePorts([
    { IP: "0.0.0.0", PrivatePort: 80, PublicPort: 80, Type: "tcp" },
    { IP: "0.0.0.0", PrivatePort: 81, PublicPort: 81, Type: "tcp" },
    { IP: "0.0.0.0", PrivatePort: 82, PublicPort: 82, Type: "tcp" },
  ]), "0.0.0.0:80-82->80-82/tcp");
  assert.equal(displayablePorts([
    { IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp" },
    { IP: "::", PrivatePort: 80, PublicPort: 8080, Type: "tcp" },
    { PrivatePort: 53, Type: "udp" },
  ]), "53/udp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp");
});

const summary: ContainerSummary = {
  Id: "76a7145a2e2cac96dbcd115d788e5f35d1808e40b46247af1af34e4c255c4af6", Names: ["/svc"], Image: "docker.io/library/busybox:latest",
  ImageID: "sha256:4b6eb9f5411eecf02597352c7f3b4209a98c1176ab6c1db311cba4311e50ab54", Command: "sh -c 'echo started; sleep 60'",
  Created: 1_000, Ports: [], Labels: { a: "1" }, State: "running", Status: "Up 7 seconds", HostConfig: { NetworkMode: "default" },
  NetworkSettings: { Networks: { bridge: {} } }, Mounts: [],
};

test("ps table as docker prints it", () => {
  const text = renderList([containerContext(summary, { trunc: true, now: 1_007_000 })], { format: "", defaultTable: CONTAINER_TABLE, headers: CONTAINER_HEADERS });
  assert.equal(text,
    "CONTAINER ID   IMAGE            COMMAND                  CREATED         STATUS         PORTS     NAMES\n" +
    "76a7145a2e2c   busybox:latest   \"sh -c 'echo started…\"   7 seconds ago   Up 7 seconds             svc\n");
  assert.equal(renderList([], { format: "", defaultTable: CONTAINER_TABLE, headers: CONTAINER_HEADERS }),
    "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n");
  assert.equal(renderList([containerContext(summary, { trunc: true })], { format: "", quiet: true, defaultTable: CONTAINER_TABLE, headers: CONTAINER_HEADERS }), "76a7145a2e2c\n");
  assert.equal(renderList([containerContext(summary, { trunc: true })], { format: "table {{.Names}}\\t{{.Label \"a\"}}", defaultTable: CONTAINER_TABLE, headers: CONTAINER_HEADERS }),
    "NAMES     a\nsvc       1\n");
});

test("images: one row per repository and tag, dangling as <none>", () => {
  const img: ImageSummary = { Id: "sha256:4b6eb9f5411eecf02597352c7f3b4209a98c1176ab6c1db311cba4311e50ab54", ParentId: "", RepoTags: ["busybox:latest", "localhost:5000/x/y:2"],
    RepoDigests: [], Created: 1, Size: 1_984_000, SharedSize: -1, Labels: {}, Containers: -1 };
  const dangling: ImageSummary = { ...img, Id: "sha256:aaaaaaaaaaaaaaaa", RepoTags: [] };
  const text = renderList(imageContexts([img, dangling], { trunc: true, digests: false, now: 61_000 }), { format: "", defaultTable: IMAGE_TABLE, headers: IMAGE_HEADERS });
  assert.equal(text,
    "REPOSITORY           TAG       IMAGE ID       CREATED              SIZE\n" +
    "busybox              latest    4b6eb9f5411e   About a minute ago   1.98MB\n" +
    "localhost:5000/x/y   2         4b6eb9f5411e   About a minute ago   1.98MB\n" +
    "<none>               <none>    aaaaaaaaaaaa   About a minute ago   1.98MB\n");
});
