import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BERTH, startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";
import { TmuxSession } from "../helpers/tmux.js";

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
});
after(async () => { await d?.stop(); });

const PROMPT = /\/ #\s*$/m;
const HOST = /host\$\s*$/m;

async function session(t: { after: (fn: () => Promise<void>) => void }): Promise<TmuxSession> {
  const s = new TmuxSession();
  t.after(() => s.kill());
  await s.start({ BERTH_HOST: d.host, DOCKER_HOST: d.host, DOCKER_CONFIG: `${d.root}/docker-config`, BERTH: BERTH });
  await s.type(`berth() { node "$BERTH" "$@"; }`);
  await s.clear();
  return s;
}

const running = async (name: string) => (await d.docker(["inspect", "-f", "{{.State.Running}}", name])).stdout.trim();

/** Commands typed in the container, their output read off the screen; the window resized and seen by stty. */
async function drive(s: TmuxSession): Promise<void> {
  await s.waitFor(PROMPT);
  await s.type("echo sum-$((40+2))");
  await s.waitFor(/^sum-42\s*$/m);
  await s.type("stty size");
  await s.waitFor(/^30 100\s*$/m);
  await s.resize(120, 40);
  // The new size travels asynchronously (SIGWINCH -> client -> resize API -> the pty), as with Docker: ask again
  // until it has landed, failing if it never does.
  for (let i = 0; ; i++) {
    await s.type("stty size");
    try {
      await s.waitFor(/^40 120\s*$/m, 1000);
      break;
    } catch (err) {
      if (i >= 14) throw err;
    }
  }
}

/** Back on the host shell with the terminal in its cooked mode again, and the exit status as given. */
async function assertRestored(s: TmuxSession, status: number): Promise<void> {
  await s.waitFor(HOST);
  await s.clear();
  await s.type("echo rc=$?; stty -a | tr ' ' '\\n' | grep -xE -- '-?(icanon|echo)' | tr '\\n' ' '; echo");
  await s.waitFor(new RegExp(`rc=${status}\\n`));
  await s.waitFor(/^icanon echo\s*$/m);
}

test("berth run -it: a shell typed into, resized live, exited with the terminal restored", async (t) => {
  const s = await session(t);
  await s.type("berth run -it --name b1 busybox sh");
  await drive(s);
  await s.type("exit 3");
  await assertRestored(s, 3);
});

test("docker run -it against berthd: ctrl-p ctrl-q detaches, the container runs on, docker attach comes back", async (t) => {
  const s = await session(t);
  await s.type("docker run -it --name d1 busybox sh");
  await drive(s);
  await s.keys("C-p", "C-q");
  await s.waitFor(HOST);
  assert.equal(await running("d1"), "true");
  await s.clear();
  await s.type("docker attach d1");
  await s.type("echo back-$((1+1))");
  await s.waitFor(/^back-2\s*$/m);
  await s.type("exit 5");
  await assertRestored(s, 5);
  assert.equal(await running("d1"), "false");
});

test("berth run -it detaches with ctrl-p ctrl-q and with --detach-keys; berth attach comes back", async (t) => {
  const s = await session(t);
  await s.type("berth run -it --name b2 busybox sh");
  await s.waitFor(PROMPT);
  await s.keys("C-p", "C-q");
  await s.waitFor(HOST);
  assert.equal(await running("b2"), "true");
  await s.clear();
  await s.type("berth attach --detach-keys ctrl-x,x b2");
  await s.type("echo again-$((2+2))");
  await s.waitFor(/^again-4\s*$/m);
  await s.keys("C-x", "x");
  await s.waitFor(HOST);
  assert.equal(await running("b2"), "true");
  await s.clear();
  await s.type("berth attach b2");
  await s.type("exit 0");
  await assertRestored(s, 0);
});

test("docker exec -it and berth exec -it: a terminal of the window's size, resized live, exit status", async (t) => {
  const r = await d.docker(["run", "-d", "--name", "ex", "busybox", "sleep", "1000"]);
  assert.equal(r.code, 0, r.stderr);
  const s = await session(t);
  await s.type("docker exec -it ex sh");
  await drive(s);
  await s.type("exit 7");
  await assertRestored(s, 7);
  await s.resize(100, 30);
  await s.clear();
  await s.type("berth exec -it ex sh");
  await drive(s);
  await s.type("exit 9");
  await assertRestored(s, 9);
  assert.equal(await running("ex"), "true");
});
