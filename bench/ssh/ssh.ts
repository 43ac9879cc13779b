/**
 * `npm run bench -- ssh` (issue 17): SSH through helper → relay → gateway against SSH straight to
 * sshd and through HAProxy in TCP mode, in one run, with the real OpenSSH client and our own
 * sshd: throughput both ways (256 MiB per run) and the interactive round trip. Loopback only;
 * every run bounded in bytes and time (parameters.ts).
 */
import type { BenchSection } from "../lib/sections.ts";
import { download, roundTrips, type Target, type TransferRun, upload } from "./measure.ts";
import { DIRECT, EDGE, HAPROXY, RTT_TRIPS, RTT_WARMUP, THROUGHPUT_ROUNDS, TRANSFER_BYTES, WARMUP_BYTES } from "./parameters.ts";
import { type SshMeasured, sshSections } from "./sections.ts";
import { startSshBenchParts } from "./setup.ts";

export async function runSshBench(): Promise<BenchSection[]> {
  const parts = await startSshBenchParts();
  try {
    const base = { login: parts.login, sshOptions: parts.sshOptions };
    const targets: Record<string, Target> = { [DIRECT]: { ...base, port: parts.sshdPort, pids: [] } };
    if (parts.haproxyPort !== null) targets[HAPROXY] = { ...base, port: parts.haproxyPort, pids: parts.pids.haproxy };
    targets[EDGE] = { ...base, port: parts.edgePort, pids: parts.pids.edge };
    const measured: SshMeasured = { download: {}, upload: {}, rtt: {}, sshVersion: parts.sshVersion, haproxyVersion: parts.haproxyVersion };
    for (const [name, target] of Object.entries(targets)) {
      await download(target, WARMUP_BYTES);
      await upload(target, WARMUP_BYTES);
      measured.download[name] = [];
      measured.upload[name] = [];
    }
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      for (const [name, target] of Object.entries(targets)) {
        (measured.download[name] as TransferRun[]).push(await download(target, TRANSFER_BYTES));
        (measured.upload[name] as TransferRun[]).push(await upload(target, TRANSFER_BYTES));
      }
    }
    for (const [name, target] of Object.entries(targets)) measured.rtt[name] = await roundTrips(target, RTT_TRIPS, RTT_WARMUP);
    return sshSections(measured);
  } finally {
    await parts.stop();
  }
}
