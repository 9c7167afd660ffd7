import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { CredentialStore, dockerConfigPath, serverKey } from "../../credential-store.js";
import { bool, string } from "../../flags.js";

const NON_TTY = "Error: Cannot perform an interactive login from a non TTY device";

/** One line from a terminal; `hidden` keeps the typed password off the screen. */
async function prompt(stdin: NodeJS.ReadStream, stderr: NodeJS.WritableStream, question: string, hidden: boolean): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, cb) { if (!muted) stderr.write(chunk); cb(); },
  });
  const rl = createInterface({ input: stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, resolve);
      muted = hidden;
    });
  } finally {
    rl.close();
    if (hidden) stderr.write("\n");
  }
}

async function readAll(stdin: NodeJS.ReadStream): Promise<string> {
  let s = "";
  stdin.setEncoding("utf8");
  for await (const chunk of stdin) s += chunk as string;
  return s;
}

export const login: Command = {
  name: "login",
  summary: "Authenticate to a registry",
  usage: "[OPTIONS] [SERVER]",
  maxArgs: 1,
  flags: {
    password: string("p", "Password or Personal Access Token (PAT)"),
    "password-stdin": bool("", "Take the Password or Personal Access Token (PAT) from stdin"),
    username: string("u", "Username"),
  },
  async run({ client, args, flags, out, stdin, env }) {
    let username = flags.string("username").trim();
    let password = flags.string("password");
    if (flags.changed("password")) {
      out.errorLine("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
      if (flags.bool("password-stdin")) throw new StatusError("--password and --password-stdin are mutually exclusive", 1);
    }
    if (flags.bool("password-stdin")) {
      if (!username) throw new StatusError("Must provide --username with --password-stdin", 1);
      password = (await readAll(stdin)).replace(/\r?\n$/, "");
    }
    const key = serverKey(args[0]);
    if (!username || !password) {
      if (!stdin.isTTY) throw new StatusError(NON_TTY, 1);
      if (!username) username = (await prompt(stdin, out.stderr, "Username: ", false)).trim();
      if (!username) throw new StatusError("Error: Non-null Username Required", 1);
      if (!password) password = await prompt(stdin, out.stderr, "Password: ", true);
      if (!password) throw new StatusError("Error: Password Required", 1);
    }
    const r = await client.system.auth({ username, password, serveraddress: key });
    const store = new CredentialStore(dockerConfigPath(env));
    await store.store(key, r.IdentityToken ? { username, identitytoken: r.IdentityToken, serveraddress: key } : { username, password, serveraddress: key });
    if (!(await store.helperFor(key))) {
      out.errorLine(`WARNING! Your credentials are stored unencrypted in '${store.path}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n`);
    }
    out.line(r.Status || "Login Succeeded");
  },
};
