/** The start-latency bench's tables and checks, from what start-latency.ts measured. */
import { type BenchSection, percentile, round } from "../lib/sections.ts";
import type { IsolatedTimes } from "./isolated.ts";
import { ISOLATED_RUNS, SLURM_STARTS, STATUS_INTERVAL_MS, WARMUP_STARTS, XVNC_GOAL_P50_MS, XVNC_STARTS } from "./parameters.ts";
import type { StartRun } from "./starts.ts";

export interface Measured {
  xvnc: StartRun[];
  slurm: StartRun[];
  withSlurm: boolean;
  /** POST /v1/sessions on a launcher-less profile, ms. */
  placement: number[];
  isolated: IsolatedTimes;
  errors: string[];
  seconds: number;
  /** os.loadavg()[0] when the starts began and when the bench ended: other work on the machine inflates every figure. */
  load: { before: number; after: number };
}

const COLUMNS = ["from POST /v1/sessions to", "runs", "p50 ms", "p99 ms", "max ms"];
const PHASE_COLUMNS = ["phase", "runs", "p50 ms", "p99 ms", "max ms"];

function row(name: string, values: number[]): Array<string | number> {
  return [name, values.length, round(percentile(values, 50), 0), round(percentile(values, 99), 0), round(Math.max(...values), 0)];
}

const pick = (runs: StartRun[], key: keyof StartRun) => runs.map((run) => run[key]);
const between = (runs: StartRun[], from: keyof StartRun, to: keyof StartRun) => runs.map((run) => run[to] - run[from]);

const SETUP = (starts: number, load: Measured["load"]) =>
  `one 2-core machine, loopback; broker = the bundled Worker in one workerd (Miniflare API, the Worker's own socket); node = a real agent (agent/main.ts run, Node ${process.versions.node}) as the unprivileged edge-agent, its launchers through the shipped sudoers rule and lib/as-user; client = Debian's noVNC 1.3 in headless Chromium through the broker's relay → the agent's node gateway → the desktop's RFB socket, a new page per start (page load included); desktop = 640×480×24, session command test/e2e/fixtures/solid-desktop (one xterm covering the screen); ${starts} sequential starts after ${WARMUP_STARTS} untimed, each desktop ended (DELETE) and gone before the next; first frame = the first framebuffer update on noVNC's visible canvas, desktop shown = the session's colour at the canvas centre (a probe in the page, every 4 ms); the page object is made before the POST (Playwright's set-up is not timed), its navigation and noVNC's loading are timed; 1-minute load average ${round(load.before, 1)} at the start, ${round(load.after, 1)} at the end (2 cores)`;

export function startLatencySections(measured: Measured): BenchSection[] {
  const { xvnc, slurm, isolated } = measured;
  const firstFrameP50 = percentile(pick(xvnc, "firstFrameMs"), 50);
  const sections: BenchSection[] = [
    {
      title: "Session start latency: xvnc (POST /v1/sessions → the desktop in the browser)",
      setup: SETUP(XVNC_STARTS, measured.load),
      columns: COLUMNS,
      rows: [
        row("201 running with a relay ticket", pick(xvnc, "answerMs")),
        row("noVNC connected (RFB handshake done)", pick(xvnc, "connectedMs")),
        row("first desktop frame in the browser", pick(xvnc, "firstFrameMs")),
        row("the session's picture shown", pick(xvnc, "pictureMs")),
      ],
      checks: [
        { name: `xvnc: p50 to the first desktop frame under ${XVNC_GOAL_P50_MS} ms`, pass: firstFrameP50 < XVNC_GOAL_P50_MS, detail: `p50 ${round(firstFrameP50, 0)} ms over ${xvnc.length} starts` },
        { name: "every start reached its desktop", pass: measured.errors.length === 0 && xvnc.length === XVNC_STARTS && (!measured.withSlurm || slurm.length === SLURM_STARTS), detail: measured.errors.length === 0 ? `${xvnc.length} xvnc, ${slurm.length} slurm starts in ${round(measured.seconds, 0)} s` : measured.errors.slice(0, 3).join("; ") },
      ],
    },
    {
      title: "Where a start's time goes (xvnc; slurm rows at the end)",
      setup: `the end-to-end phases of the starts above, and each part of the 201 timed on its own (${ISOLATED_RUNS} runs each, after one untimed): placement = POST /v1/sessions on a relay profile with no launcher (auth, the pool's chain, a reservation, the relay ticket); launcher = agent/launchers/xvnc run as the agent runs it (as edge-agent, the request on stdin, Node startup included), to its exit and to its output closed (what the agent waits for); helper = sudo -n lib/as-user xvnc-start as edge-agent (sudo, runuser, the X cookie, Xvnc up, the session spawned); Xvnc = Xvnc alone until it writes its display (-displayfd)`,
      columns: PHASE_COLUMNS,
      rows: [
        row("POST → 201 (placement, start over the control channel, launcher, reply)", pick(xvnc, "answerMs")),
        row("  placement alone (no launcher)", measured.placement),
        row("  xvnc launcher alone, to exit", isolated.launcherExitMs),
        row("    its Node start alone (imports, request parse; an empty request refused)", isolated.launcherStartupMs),
        row("  xvnc launcher alone, to output closed", isolated.launcherClosedMs),
        row("    as-user xvnc-start alone (sudo → Xvnc ready → session spawned)", isolated.helperMs),
        row("      Xvnc alone to its display", isolated.xvncMs),
        row("201 → the desktop page's first script (navigation, HTML)", between(xvnc, "answerMs", "pageMs")),
        row("first script → noVNC loaded (Debian's noVNC ES modules fetched and run)", between(xvnc, "pageMs", "connectingMs")),
        row("noVNC loaded → connected (WebSocket through relay and gateway, RFB handshake)", between(xvnc, "connectingMs", "connectedMs")),
        row("noVNC connected → first frame", between(xvnc, "connectedMs", "firstFrameMs")),
        row("first frame → the session's picture (xterm mapped)", between(xvnc, "firstFrameMs", "pictureMs")),
      ],
      checks: [],
    },
  ];
  if (measured.withSlurm) {
    sections.push({
      title: "Session start latency: slurm (sbatch → connectable → the desktop in the browser)",
      setup: `${SETUP(SLURM_STARTS, measured.load)}; Slurm 22.05 single node (slurmctld + slurmd on this machine, munge), the job (agent/launchers/lib/slurm-desktop.sh) starts Xvnc on a TCP port and writes its endpoint file; the agent asks the launcher every ${STATUS_INTERVAL_MS} ms (launchers.statusIntervalMs; the default is 3000) and reports at once when it runs; the client polls GET /v1/sessions every 20 ms, then resumes for a relay ticket`,
      columns: COLUMNS,
      rows: [
        row("202 starting (sbatch done, the queued message)", pick(slurm, "answerMs")),
        row("the job wrote its endpoint (Xvnc up; the file's mtime)", pick(slurm, "endpointMs")),
        row("listed connectable (the node reported the job's desktop)", pick(slurm, "connectableMs")),
        row("noVNC connected (after resume)", pick(slurm, "connectedMs")),
        row("first desktop frame in the browser", pick(slurm, "firstFrameMs")),
        row("the session's picture shown", pick(slurm, "pictureMs")),
      ],
      checks: [],
    });
    sections[1]?.rows.push(
      row("slurm: 202 → the job's endpoint written (scheduling, job launch, Xvnc)", between(slurm, "answerMs", "endpointMs")),
      row("slurm: endpoint written → listed connectable (status runs of the launcher, the beat)", between(slurm, "endpointMs", "connectableMs")),
    );
  }
  return sections;
}
