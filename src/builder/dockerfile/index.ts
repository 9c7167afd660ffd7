export type * from "./types.js";
export { parseDockerfile, type ParseOptions } from "./parse-dockerfile.js";
export { ParseError, DockerfileSyntaxError } from "./parse-error.js";
export { expand, expandWords, expandDetailed, type Env, type ExpandOptions, type ExpandResult } from "./shell-lexer.js";
export { expandInstruction, EXPANDING_INSTRUCTIONS, type ExpandInstructionOptions } from "./expand-instruction.js";
export { heredocData } from "./heredoc.js";
export { parseMount } from "./run-mount.js";
export { parseGoDuration } from "./go-duration.js";
export { resolveStage, stageDependencies, stagesNeededFor, type StageDepsOptions } from "./stages.js";
export {
  effectiveArgs, platformArgs, StageArgs, unusedBuildArgs, PROXY_ARGS, type EffectiveArgsOptions,
} from "./build-args.js";
export {
  commandFor, runPlanFor, imageCmdEntrypoint, containerArgv, DEFAULT_SHELL, INLINE_FILES_DIR,
  type RunPlan, type InlineFile, type CmdEntrypoint,
} from "./command.js";
export { INSTRUCTION_KINDS } from "./parse-instruction.js";
