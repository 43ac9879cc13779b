/**
 * The agent's one composition root and the only module that touches `process`: argv, signals,
 * stdout/stderr and the exit code. Exit codes: 0 done, 1 runtime or config failure, 2 bad usage.
 */
import { hostname } from "node:os";
import { startAgent } from "./agent.ts";
import { parseCommandLine, UsageError } from "./cli.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { errorMessage } from "./deps.ts";
import { EnrollError, enrollNode } from "./enroll.ts";
import { GatewayError } from "./gateway/gateway.ts";
import { rekeyNode } from "./rekey.ts";
import { nodeLaunchDeps } from "./launch/node-launch-deps.ts";
import { nodeDeps } from "./node-deps.ts";
import { stopWithin } from "./shutdown.ts";
import { StateError } from "./state.ts";
import { defaultTunnelService, hostnameOfOrigin, renderTunnelConfig } from "./tunnel-config.ts";
import { ZodError } from "zod";

const log = (line: string) => {
  process.stderr.write(`${line}\n`);
};

function fail(line: string, exitCode: number): never {
  log(line);
  process.exit(exitCode);
}

async function main(): Promise<void> {
  let commandLine;
  try {
    commandLine = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) fail(error.message, 2);
    throw error;
  }
  const deps = nodeDeps(log);
  let config;
  try {
    config = await loadConfig(deps.fs.readText, commandLine.configPath, hostname());
  } catch (error) {
    if (error instanceof ConfigError) fail(`config error: ${error.message}`, 1);
    throw error;
  }

  if (commandLine.command === "tunnel-config") {
    try {
      process.stdout.write(
        renderTunnelConfig({
          tunnelId: commandLine.tunnelId,
          hostname: commandLine.hostname ?? hostnameOfOrigin(config.originUrl),
          service: commandLine.service ?? defaultTunnelService(config),
          credentialsFile: commandLine.credentialsFile ?? `/etc/cloudflared/${commandLine.tunnelId}.json`,
        }),
      );
      return;
    } catch (error) {
      if (error instanceof ZodError) fail(`tunnel-config: ${error.issues.map((issue) => issue.message).join("; ")}`, 2);
      throw error;
    }
  }

  if (commandLine.command === "enroll" || commandLine.command === "rekey") {
    try {
      const state = commandLine.command === "enroll" ? await enrollNode(config, commandLine.token, deps) : await rekeyNode(config, deps);
      const verb = commandLine.command === "enroll" ? "enrolled" : "re-keyed";
      log(`${verb} ${config.hostname} as ${state.serverId} in pool ${state.pool}${state.approved ? "" : " (waiting for an admin's approval)"}`);
      if (commandLine.command === "rekey") log("restart a running agent now: the old key no longer works");
      process.stdout.write(`${state.serverId}\n`);
      return;
    } catch (error) {
      if (error instanceof EnrollError || error instanceof StateError) fail(`${commandLine.command} failed: ${error.message}`, 1);
      throw error;
    }
  }

  let agent;
  try {
    const launch = config.launchers ? await nodeLaunchDeps(deps, { pid: process.pid, execPath: process.execPath }) : undefined;
    agent = await startAgent(config, deps, launch ? { launch } : {});
  } catch (error) {
    if (error instanceof StateError || error instanceof GatewayError) fail(error.message, 1);
    throw error;
  }
  const shutdownTimeoutMs = config.shutdownTimeoutMs;
  const running = agent;
  let shuttingDown = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log(`${signal}: stopping (at most ${shutdownTimeoutMs} ms)`);
    const clean = await stopWithin(running.stop, shutdownTimeoutMs, deps);
    if (!clean) log("the beat in flight or the gateway's connections did not settle in time; exiting anyway");
    process.exit(0);
  };
  process.once("SIGTERM", (signal) => void shutdown(signal));
  process.once("SIGINT", (signal) => void shutdown(signal));
}

main().catch((error: unknown) => fail(`agent crashed: ${errorMessage(error)}`, 1));
