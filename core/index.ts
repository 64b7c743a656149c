// The core's public surface for the CLI, the language server and the extension.
export {
  validate,
  type ValidateOptions,
  type ValidationResult,
  type WorkflowModel,
  type ValidationHost,
} from "./check/validate";
export { CODES, type Code, type Severity, type CodeInfo } from "./model/codes";
export type { Diagnostic, Span, Fix } from "./model/diagnostic";
export { LineIndex, type Position } from "./model/line-index";
export { Workflow } from "./model/schema";
export { applySeverities } from "./model/severity";
export { validateBytes, decodeUtf8, type BytesValidationResult } from "./check/validate-bytes";
