/** The start-latency bench's counts and names, shared by the run (start-latency.ts), its parts and its tables (sections.ts). */

/** Timed xvnc starts, one after another (each ended before the next), after `WARMUP_STARTS` untimed. */
export const XVNC_STARTS = 20;
/** Timed slurm starts (each job cancelled and gone before the next), after `WARMUP_STARTS` untimed. */
export const SLURM_STARTS = 5;
export const WARMUP_STARTS = 1;
/** Runs of each isolated phase (placement alone, the launcher alone, the helper alone, Xvnc alone). */
export const ISOLATED_RUNS = 10;
/** launchers.statusIntervalMs for the bench's agent: how often a queued job's launcher is asked (the default is 3000). */
export const STATUS_INTERVAL_MS = 250;
/** Issue 14's goal for xvnc: p50 from POST /v1/sessions to the first desktop frame in the browser. */
export const XVNC_GOAL_P50_MS = 1_500;
/** Bounds on one start's waits: a start that takes longer counts as an error. */
export const XVNC_TIMEOUT_MS = 20_000;
export const SLURM_TIMEOUT_MS = 60_000;
/** The bench's desktop user (a local account the bench creates if missing) and the placement-only user. */
export const BENCH_LOGIN = "benchdesk";
export const PLACEMENT_LOGIN = "benchplace";
