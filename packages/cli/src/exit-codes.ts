/** Exit codes of every command (documented in README.md; scripts and CI branch on them). */
export const EXIT = {
  ok: 0,
  /** anything unexpected */
  error: 1,
  /** bad arguments or an invalid file (the message names the field and the line) */
  usage: 2,
  /** not logged in, or the token is bad, expired, revoked, from another deployment, or lacks the scope or role */
  auth: 3,
  /** the dataset, run or artifact does not exist (or is another workspace's) */
  notFound: 4,
  /** the server refused the request as it stands (409: already finished, …) */
  conflict: 5,
  /** the studio could not be reached */
  unreachable: 6,
  /** `runs watch`: the run failed */
  runFailed: 10,
  /** `runs watch`: the run was cancelled */
  runCancelled: 11,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly details: { field: string; message: string }[] = [],
  ) {
    super(message);
    this.name = "CliError";
  }
}

export function exitCodeForStatus(status: number): number {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 400 || status === 413 || status === 422) return EXIT.usage;
  return EXIT.error;
}
