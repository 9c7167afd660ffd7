import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { bool, string } from "../../flags.js";
import { buildCreateBody, CREATE_FLAGS } from "../../container-options.js";
import { createContainer } from "../../create-container.js";
import { followTerminalSize, proxySignals, pumpAttached } from "../../attach-session.js";
import { describeError } from "../../describe-error.js";

/** docker's runStartContainerErr: 127 when the command is missing, 126 when it cannot be invoked. */
export function startErrorStatus(message: string): number {
  const m = message.replace(/^Error response from daemon: /, "");
  if (m.includes("executable file not found") || m.includes("no such file or directory") || m.includes("system cannot find the file specified")) return 127;
  if (m.includes("permission denied") || m.includes("is a directory")) return 126;
  return 125;
}

export const run: Command = {
  name: "container run",
  summary: "Create and run a new container from an image",
  usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
  minArgs: 1,
  interspersed: false,
  runLike: true,
  flags: {
    ...CREATE_FLAGS,
    detach: bool("d", "Run container in background and print container ID"),
    "detach-keys": string("", "Override the key sequence for detaching a container"),
    "sig-proxy": bool("", "Proxy received signals to the process", { default: true }),
  },
  async run({ client, args, flags, out, env, stdin }) {
    const detach = flags.bool("detach");
    const plan = buildCreateBody(flags, args, env, { detach });
    const body = plan.body;
    if (!detach && body.Tty && body.AttachStdin && !process.stdin.isTTY) {
      throw new StatusError("the input device is not a TTY", 1, true);
    }
    const id = await createContainer(client, out, plan, { pull: flags.string("pull"), quiet: flags.bool("quiet"), cidfile: flags.string("cidfile") });

    if (detach) {
      // docker prints the id as soon as the container exists, before starting it
      out.line(id);
      try {
        await client.containers.start(id);
      } catch (err) {
        const message = describeError(err);
        throw new StatusError(message, startErrorStatus(message));
      }
      return 0;
    }

    // the wait goes out first: it must be registered before the container can exit
    const autoRemove = Boolean(body.HostConfig?.AutoRemove);
    const waiting = client.containers.wait(id, { condition: autoRemove ? "removed" : "next-exit" });
    // a failed start also fails the wait; it is reported through the start error
    waiting.catch(() => {});
    const attached = body.AttachStdin || body.AttachStdout || body.AttachStderr;
    const conn = attached
      ? await client.containers.attach(id, { stream: true, stdin: body.AttachStdin, stdout: body.AttachStdout, stderr: body.AttachStderr, detachKeys: flags.string("detach-keys") || undefined })
      : undefined;

    const stopProxy = !body.Tty && flags.bool("sig-proxy") ? proxySignals((sig) => client.containers.kill(id, sig)) : () => {};
    try {
      try {
        await client.containers.start(id);
      } catch (err) {
        conn?.socket.destroy();
        const message = describeError(err);
        if (autoRemove) await waiting.catch(() => {});
        throw new StatusError(message, startErrorStatus(message));
      }
      const stopResize = body.Tty ? followTerminalSize((h, w) => client.containers.resize(id, h, w)) : () => {};
      try {
        if (conn) {
          const { detached } = await pumpAttached(conn, {
            tty: Boolean(body.Tty),
            stdin: body.AttachStdin ? stdin : null,
            stdout: out.stdout,
            stderr: out.stderr,
            detachKeys: flags.string("detach-keys"),
          });
          if (detached) return 0;
        }
      } finally {
        stopResize();
      }
      const status = await waiting;
      if (status.Error?.Message) throw new StatusError(status.Error.Message, 125);
      return status.StatusCode;
    } finally {
      stopProxy();
    }
  },
};
