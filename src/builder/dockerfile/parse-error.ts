import { EngineError } from "../../errdefs/index.js";

/**
 * A Dockerfile that cannot be built as written. The message has Docker's shape
 * ("dockerfile parse error on line 3: unknown instruction: FOO"); `reason` is the bare cause.
 */
export class ParseError extends EngineError {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly file = "Dockerfile",
    readonly endLine = line,
  ) {
    super("invalid-argument", `dockerfile parse error on line ${line}: ${reason}`);
  }

  /** "Dockerfile:3", for pointing at the spot. */
  get where(): string {
    return `${this.file}:${this.line}`;
  }
}

/** A syntax error not yet tied to a line; the parser re-throws it as a ParseError with the line. */
export class DockerfileSyntaxError extends EngineError {
  constructor(message: string) {
    super("invalid-argument", message);
  }
}

export function syntaxError(message: string): DockerfileSyntaxError {
  return new DockerfileSyntaxError(message);
}
