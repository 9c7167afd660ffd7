/**
 * The parsed shape of a Dockerfile, as the executor and the cache consume it.
 *
 * Values are kept as written (quotes, escapes and `$vars` intact) wherever Docker substitutes
 * variables later: run `expandInstruction(instr, env)` just before executing a step to get the
 * substituted, quote-removed values. RUN/CMD/ENTRYPOINT text is never substituted by the builder.
 */

export type EscapeChar = "\\" | "`";

export interface Directives {
  /** `# syntax=` value, if given. */
  syntax?: string;
  /** `# escape=` value, if given (the effective char is Dockerfile.escape). */
  escape?: EscapeChar;
  /** `# check=` raw value, if given. */
  check?: string;
  /** `# check=` decoded: rule names to skip ("all" for every rule), and whether violations are errors. */
  checks?: { skip: string[] | "all"; error: boolean };
}

export interface Dockerfile {
  directives: Directives;
  escape: EscapeChar;
  /** ARG instructions before the first FROM (global scope, usable in FROM lines). */
  metaArgs: ArgInstruction[];
  stages: Stage[];
  /** Non-fatal findings (e.g. empty continuation lines), each with its line. */
  warnings: { line: number; message: string }[];
}

export interface Stage {
  /** Lower-cased `AS` name, if any. */
  name?: string;
  /** 0-based position among the stages (what `COPY --from=<n>` refers to). */
  index: number;
  from: FromInstruction;
  /** The stage's instructions after its FROM, in order. */
  instructions: Instruction[];
}

export type InstructionKind =
  | "FROM" | "RUN" | "COPY" | "ADD" | "ENV" | "ARG" | "WORKDIR" | "USER" | "LABEL" | "EXPOSE"
  | "ENTRYPOINT" | "CMD" | "VOLUME" | "STOPSIGNAL" | "HEALTHCHECK" | "SHELL" | "ONBUILD" | "MAINTAINER";

interface InstructionBase {
  /** The logical line as Docker keeps it: continuation lines joined, comments dropped, trimmed. */
  original: string;
  /** 1-based line of the keyword. */
  startLine: number;
  /** 1-based last line (continuations and heredoc bodies included). */
  endLine: number;
  /** Raw `--flag[=value]` words as written, in order. */
  flags: string[];
}

/** A here-document attached to RUN, COPY or ADD. */
export interface Heredoc {
  /** The delimiter word with quotes removed (also the file name for `COPY <<EOF /dir/`). */
  name: string;
  /** Body exactly as written, line endings kept, without the terminator line. Use heredocData() for the chomped form. */
  content: string;
  /** `<<-`: leading tabs are stripped from body lines. */
  chomp: boolean;
  /** False when the delimiter was quoted: the body is taken literally. */
  expand: boolean;
  /** `3<<EOF` file descriptor; 0 when not given. */
  fd: number;
}

export type CommandForm = "shell" | "exec";

export interface FromInstruction extends InstructionBase {
  kind: "FROM";
  /** Image reference, a stage name, or "scratch" (unexpanded: expand with the global ARGs). */
  image: string;
  /** Lower-cased stage name from `AS name`. */
  stageName?: string;
  /** `--platform` value (unexpanded). */
  platform?: string;
}

export interface BindMount {
  type: "bind";
  target: string;
  /** Path in `from` (default: its root). */
  source: string;
  /** Stage name/index, image, or absent for the build context. */
  from?: string;
  readonly: boolean;
}

export interface CacheMount {
  type: "cache";
  target: string;
  /** Defaults to the target path. */
  id: string;
  sharing: "shared" | "private" | "locked";
  readonly: boolean;
  from?: string;
  source?: string;
  mode: number;
  uid: number;
  gid: number;
}

export interface TmpfsMount {
  type: "tmpfs";
  target: string;
  /** Bytes; undefined = no limit. */
  size?: number;
}

export interface SecretMount {
  type: "secret";
  /** Defaults to the basename of target. */
  id: string;
  /** File path; defaults to /run/secrets/<id> unless only `env` is set. */
  target?: string;
  /** Expose as this environment variable. */
  env?: string;
  required: boolean;
  mode: number;
  uid: number;
  gid: number;
}

export interface SshMount {
  type: "ssh";
  id: string;
  /** Defaults to /run/buildkit/ssh_agent.<n> (n = index among the ssh mounts). */
  target: string;
  required: boolean;
  mode: number;
  uid: number;
  gid: number;
}

export type RunMount = BindMount | CacheMount | TmpfsMount | SecretMount | SshMount;

export interface RunInstruction extends InstructionBase {
  kind: "RUN";
  form: CommandForm;
  /** Shell form: the command text; exec form: the argv. */
  command: string | string[];
  heredocs: Heredoc[];
  /** Typed `--mount` values (after expandInstruction these carry substituted values). */
  mounts: RunMount[];
  /** Raw `--mount` values as written (expandInstruction re-parses them with substitution). */
  mountSpecs: string[];
  network?: "default" | "none" | "host";
  security?: "sandbox" | "insecure";
  /** `--device` values. */
  devices: string[];
}

interface CopyAddBase extends InstructionBase {
  /** Context (or `from`) paths, URLs and git refs; heredoc sources are in `heredocs`. */
  sources: string[];
  dest: string;
  /** Heredoc sources, in the order written; each becomes a file named after its delimiter. */
  heredocs: Heredoc[];
  chown?: string;
  chmod?: string;
  link: boolean;
  exclude: string[];
  parents: boolean;
  /** The argument list was written as a JSON array. */
  json: boolean;
}

export interface CopyInstruction extends CopyAddBase {
  kind: "COPY";
  /** `--from` stage name/index, image or named context. */
  from?: string;
}

export interface AddInstruction extends CopyAddBase {
  kind: "ADD";
  checksum?: string;
  keepGitDir: boolean;
  /** `--unpack`; undefined = default (local archives extracted, URLs not). */
  unpack?: boolean;
}

export interface EnvInstruction extends InstructionBase {
  kind: "ENV";
  pairs: [string, string][];
}

export interface LabelInstruction extends InstructionBase {
  kind: "LABEL";
  pairs: [string, string][];
}

export interface ArgInstruction extends InstructionBase {
  kind: "ARG";
  /** Declared names with their default (undefined = no default). */
  args: { name: string; default?: string }[];
}

export interface WorkdirInstruction extends InstructionBase { kind: "WORKDIR"; path: string }
export interface UserInstruction extends InstructionBase { kind: "USER"; user: string }
export interface ExposeInstruction extends InstructionBase { kind: "EXPOSE"; ports: string[] }
export interface VolumeInstruction extends InstructionBase { kind: "VOLUME"; volumes: string[] }
export interface StopSignalInstruction extends InstructionBase { kind: "STOPSIGNAL"; signal: string }
export interface MaintainerInstruction extends InstructionBase { kind: "MAINTAINER"; maintainer: string }
export interface ShellInstruction extends InstructionBase { kind: "SHELL"; shell: string[] }

export interface CmdInstruction extends InstructionBase {
  kind: "CMD";
  form: CommandForm;
  command: string | string[];
}

export interface EntrypointInstruction extends InstructionBase {
  kind: "ENTRYPOINT";
  form: CommandForm;
  /** `ENTRYPOINT []` gives exec form with an empty array: it clears the entrypoint (null in the config). */
  command: string | string[];
}

export interface HealthConfig {
  /** ["NONE"], ["CMD", ...argv] or ["CMD-SHELL", text]. */
  test: string[];
  /** Durations in nanoseconds; 0 = inherit / default. */
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

export interface HealthcheckInstruction extends InstructionBase {
  kind: "HEALTHCHECK";
  none: boolean;
  health: HealthConfig;
}

export interface OnbuildInstruction extends InstructionBase {
  kind: "ONBUILD";
  inner: Instruction;
  /** The trigger as stored in the image's Config.OnBuild (keyword stripped, heredoc bodies re-attached). */
  expression: string;
}

export type Instruction =
  | FromInstruction | RunInstruction | CopyInstruction | AddInstruction | EnvInstruction
  | LabelInstruction | ArgInstruction | WorkdirInstruction | UserInstruction | ExposeInstruction
  | EntrypointInstruction | CmdInstruction | VolumeInstruction | StopSignalInstruction
  | HealthcheckInstruction | ShellInstruction | OnbuildInstruction | MaintainerInstruction;
