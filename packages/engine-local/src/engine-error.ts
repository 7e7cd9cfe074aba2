/**
 * The one error type the engine throws on bad input. `code` is the event protocol's
 * machine-readable reason; `field` names the run-config field (dotted) or file at fault.
 */
export class EngineError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  readonly hint: string | undefined;
  constructor(code: string, message: string, opts: { field?: string; hint?: string } = {}) {
    super(message);
    this.name = "EngineError";
    this.code = code;
    this.field = opts.field;
    this.hint = opts.hint;
  }
}
