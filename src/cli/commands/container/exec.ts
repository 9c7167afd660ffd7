import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { bool, string, strings } from "../../flags.js";
import { followTerminalSize, pumpAttached } from "../../attach-session.js";
import { readKeyValueFile } from "../../container-options.js";

export const exec: Command = {
  name: "container exec",
  summary: "Execute a command in a running container",
  usage: "[OPTIONS] CONTAINER COMMAND [ARG...]",
  minArgs: 2,
  interspersed: false,
  flags: {
    detach: bool("d", "Detached mode: run command in the background"),
    "detach-keys": string("", "Override the key sequence for detaching a container"),
    env: strings("e", "Set environment variables"),
    "env-file": strings("", "Read in a file of environment variables"),
    interactive: bool("i", "Keep STDIN open even if not attached"),
    privileged: bool("", "Give extended privileges to the command"),
    tty: bool("t", "Allocate a pseudo-TTY"),
    user: string("u", "Username or UID (format: \"<name|uid>[:<group|gid>]\")"),
    workdir: string("w", "Working directory inside the container"),
  },
  async run({ client, args, flags, out, env, stdin }) {
    const [container, ...cmd] = args as [string, ...string[]];
    const detach = flags.bool("detach");
    const tty = flags.bool("tty");
    const interactive = flags.bool("interactive");
    if (!detach && tty && interactive && !stdin.isTTY) throw new StatusError("the input device is not a TTY", 1, true);
    const envList = [
      ...flags.strings("env-file").flatMap((f) => readKeyValueFile(f, env, true)),
      ...flags.strings("env").map((e) => (e.includes("=") || env[e] === undefined ? e : `${e}=${env[e]}`)),
    ];
    const { Id } = await client.exec.create(container, {
      AttachStdin: interactive && !detach, AttachStdout: !detach, AttachStderr: !detach, Tty: tty,
      Env: envList, Cmd: cmd, Privileged: flags.bool("privileged"), User: flags.string("user") || undefined,
      WorkingDir: flags.string("workdir") || undefined, DetachKeys: flags.string("detach-keys") || undefined,
      ConsoleSize: tty && process.stdout.isTTY ? [process.stdout.rows, process.stdout.columns] : undefined,
    });
    if (detach) { await client.exec.startDetached(Id, { Tty: tty }); return 0; }
    const conn = await client.exec.start(Id, { Detach: false, Tty: tty });
    const stopResize = tty ? followTerminalSize((h, w) => client.exec.resize(Id, h, w)) : () => {};
    try {
      const { detached } = await pumpAttached(conn, { tty, stdin: interactive ? stdin : null, stdout: out.stdout, stderr: out.stderr, detachKeys: flags.string("detach-keys") });
      if (detached) return 0;
    } finally {
      stopResize();
    }
    const r = await client.exec.inspect(Id);
    return r.ExitCode ?? 0;
  },
};
