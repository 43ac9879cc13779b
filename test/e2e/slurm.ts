/**
 * A single-node Slurm for the `slurm` launcher's suite (root only), as
 * /work/shared/reference/node-desktops.md measured it: munged, slurmctld -i and slurmd -N
 * localhost, with the node `localhost` at 127.0.0.1 in partition `debug`. Daemons already running
 * are reused and left alone; the ones started here are stopped by the pids they wrote.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { waitFor } from "../harness/wait.ts";

const execFileAsync = promisify(execFile);

const CONF = "/etc/slurm/slurm.conf";
const MARKER = "# Written by test/e2e (edge-session-broker)";
const SLURM_CONF = `${MARKER}: a single-node Slurm for the slurm launcher's suite.
ClusterName=local
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`;

const DAEMONS = [
  { name: "munged", pidFile: "/run/munge/munged.pid", start: ["runuser", "-u", "munge", "--", "/usr/sbin/munged"] },
  { name: "slurmctld", pidFile: "/run/slurmctld.pid", start: ["/usr/sbin/slurmctld", "-i"] },
  { name: "slurmd", pidFile: "/run/slurmd.pid", start: ["/usr/sbin/slurmd", "-N", "localhost"] },
] as const;

/** A live process (not a zombie) with this pid. */
function isLive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !["Z", "X"].includes(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3));
  } catch {
    return false;
  }
}

/** The pid in `pidFile` if that process lives (daemons may leave a stale file behind). */
function livePid(pidFile: string): number | null {
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  return Number.isInteger(pid) && pid > 1 && isLive(pid) ? pid : null;
}

export interface SingleNodeSlurm {
  /** Pids of the daemons this run started (reused ones are not listed). */
  started: Array<{ name: string; pid: number }>;
  stop(): Promise<void>;
}

export async function startSingleNodeSlurm(): Promise<SingleNodeSlurm> {
  if (existsSync(CONF) && !readFileSync(CONF, "utf8").startsWith(MARKER)) {
    throw new Error(`${CONF} exists and was not written by these tests; not touching a site's Slurm`);
  }
  writeFileSync(CONF, SLURM_CONF);
  await execFileAsync("install", ["-d", "-o", "munge", "-g", "munge", "-m", "755", "/run/munge"]);
  await execFileAsync("install", ["-d", "-o", "slurm", "-g", "slurm", "/var/spool/slurmctld", "/var/log/slurm"]);
  mkdirSync("/var/spool/slurmd", { recursive: true });
  const started: Array<{ name: string; pid: number }> = [];
  for (const daemon of DAEMONS) {
    if (livePid(daemon.pidFile) !== null) continue;
    const [command, ...args] = daemon.start;
    await execFileAsync(command, args, { timeout: 15_000 });
    await waitFor(() => livePid(daemon.pidFile) !== null, 10_000, `${daemon.name} to write ${daemon.pidFile}`);
    started.push({ name: daemon.name, pid: livePid(daemon.pidFile) as number });
  }
  await waitFor(
    async () => {
      const { stdout } = await execFileAsync("sinfo", ["-h", "-n", "localhost", "-o", "%T"]);
      return stdout.trim() === "idle";
    },
    30_000,
    "the Slurm node localhost to be idle",
    250,
  );
  return {
    started,
    async stop() {
      for (const { pid } of [...started].reverse()) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          continue;
        }
        await waitFor(() => !isLive(pid), 10_000, `pid ${pid} to exit`).catch(() => process.kill(pid, "SIGKILL"));
      }
    },
  };
}

/** The state of job `jobId` in squeue ("" once Slurm has forgotten it). */
export async function jobState(jobId: string): Promise<string> {
  const { stdout } = await execFileAsync("squeue", ["-h", "-t", "all", "-j", jobId, "-o", "%T"]).catch(() => ({ stdout: "" }));
  return stdout.trim();
}
