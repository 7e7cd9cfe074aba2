import { Command } from "commander";
import * as cmd from "./commands.ts";
import { CliError, EXIT } from "./exit-codes.ts";

/**
 * `distillery`: the studio from a terminal or CI. Every command takes --json (machine output on
 * stdout, one JSON value; errors as {"error", "exitCode", "errors"}); exit codes in README.md.
 */
export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command("distillery")
    .description("Drive a Distillery studio: datasets, runs, artifacts, generation jobs, evaluations.")
    .option("--url <url>", "the studio (default: the saved login, or DISTILLERY_URL)")
    .option("--token <token>", "an API token (default: the saved login, or DISTILLERY_TOKEN)")
    .option("--json", "machine-readable output on stdout")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const flags = () => program.opts<cmd.GlobalFlags>();
  const out = (): cmd.Out => ({
    json: (v) => {
      if (flags().json) process.stdout.write(`${JSON.stringify(v)}\n`);
    },
    line: (s) => {
      if (!flags().json) process.stdout.write(`${s}\n`);
    },
  });
  const run = (fn: () => Promise<unknown>) => async () => {
    try {
      const code = await fn();
      exit(typeof code === "number" ? code : EXIT.ok);
    } catch (e) {
      const err = e instanceof CliError ? e : new CliError((e as Error).message, EXIT.error);
      if (flags().json)
        process.stdout.write(
          `${JSON.stringify({ error: err.message, exitCode: err.exitCode, errors: err.details })}\n`,
        );
      process.stderr.write(`distillery: ${err.message}\n`);
      exit(err.exitCode);
    }
  };

  program
    .command("login")
    .description("check a token against a studio and save both (~/.config/distillery/config.json, mode 0600)")
    .action(run(() => cmd.login(flags(), out())));
  program
    .command("whoami")
    .description("the token's user, role and scope")
    .action(run(() => cmd.whoami(flags(), out())));

  const datasets = program.command("datasets").description("datasets of the workspace");
  datasets
    .command("ls")
    .description("list datasets")
    .action(run(() => cmd.datasetsLs(flags(), out())));
  datasets
    .command("upload <file>")
    .description("upload a JSONL/JSON/CSV/Parquet file (progress bar), import it, follow the import")
    .option("--name <name>", "dataset name (default: the file's name)")
    .action((file: string, opts: { name?: string }) =>
      run(() => cmd.datasetsUpload(file, opts, flags(), out()))(),
    );

  const runs = program.command("runs").description("training runs");
  runs
    .command("ls")
    .option("--status <status>", "only runs in this status")
    .option("--limit <n>", "at most this many")
    .description("list runs (newest first)")
    .action((opts: { status?: string; limit?: string }) => run(() => cmd.runsLs(opts, flags(), out()))());
  runs
    .command("launch")
    .requiredOption("-f, --file <run.yaml>", "a run config (YAML or JSON) in the studio form's schema")
    .description("launch a run; an invalid config names the field and its line")
    .action((opts: { file: string }) => run(() => cmd.runsLaunch(opts, flags(), out()))());
  runs
    .command("watch <runId>")
    .description(
      "live step, loss, lr, tokens/s and ETA until the run ends; exits with its status (0, 10 failed, 11 cancelled)",
    )
    .action((id: string) => run(() => cmd.runsWatch(id, flags(), out()))());
  runs
    .command("cancel <runId>")
    .description("cancel a run")
    .action((id: string) => run(() => cmd.runsCancel(id, flags(), out()))());

  program
    .command("artifacts")
    .description("run artifacts")
    .command("download <runId>")
    .requiredOption("--out <dir>", "folder to write into")
    .option("--checkpoints", "also the run's checkpoints")
    .description("download a run's artifacts (a folder artifact as a .tar) with progress")
    .action((id: string, opts: { out: string; checkpoints?: boolean }) =>
      run(() => cmd.artifactsDownload(id, opts, flags(), out()))(),
    );

  const generations = program.command("generations").description("teacher generation jobs");
  generations
    .command("ls")
    .description("list generation jobs")
    .action(run(() => cmd.generationsLs(flags(), out())));
  generations
    .command("show <jobId>")
    .description("a generation job's status, progress, ETA and result dataset version")
    .action((id: string) => run(() => cmd.generationsShow(id, flags(), out()))());
  generations
    .command("cancel <jobId>")
    .description("cancel a generation job")
    .action((id: string) => run(() => cmd.generationsCancel(id, flags(), out()))());

  const evaluations = program.command("evaluations").description("evaluations of models and runs");
  evaluations
    .command("ls")
    .option("--run <runId>", "only this run's evaluations")
    .description("list evaluations")
    .action((opts: { run?: string }) => run(() => cmd.evaluationsLs(opts, flags(), out()))());
  evaluations
    .command("show <evaluationId>")
    .description("an evaluation's status, progress and metrics")
    .action((id: string) => run(() => cmd.evaluationsShow(id, flags(), out()))());
  evaluations
    .command("cancel <evaluationId>")
    .description("cancel an evaluation")
    .action((id: string) => run(() => cmd.evaluationsCancel(id, flags(), out()))());
  evaluations
    .command("export <evaluationId>")
    .requiredOption("--out <dir>", "folder to write into")
    .option("--format <format>", "csv or jsonl", "csv")
    .description("download an evaluation's per-example results with progress")
    .action((id: string, opts: { out: string; format?: string }) =>
      run(() => cmd.evaluationsExport(id, opts, flags(), out()))(),
    );
  return program;
}

const isMain = process.argv[1]?.endsWith("main.ts");
if (isMain) {
  const program = buildProgram((code) => process.exit(code));
  program.parseAsync(process.argv).catch((e: { exitCode?: number; code?: string }) => {
    // commander's own usage errors (unknown command, missing option) and --help
    process.exit(e.code === "commander.helpDisplayed" || e.code === "commander.version" ? 0 : EXIT.usage);
  });
}
