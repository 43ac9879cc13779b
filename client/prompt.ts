/**
 * What the helper asks its user and the programs it runs for them: a password (typed without
 * echo on a terminal, or the first line of stdin with --password-stdin) and the OIDC token command.
 */
import { spawn } from "node:child_process";

const COMMAND_TIMEOUT_MS = 120_000;
const MAX_COMMAND_OUTPUT_BYTES = 64 * 1024;

/** The first line of stdin (without its line end). */
export function readLine(input: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      const end = text.indexOf("\n");
      if (end !== -1) finish(text.slice(0, end));
    };
    const finish = (line: string) => {
      input.off("data", onData);
      input.pause();
      resolve(line.replace(/\r$/, ""));
    };
    input.on("data", onData);
    input.once("end", () => finish(text));
    input.once("error", reject);
  });
}

/** Prompts on `output` and reads a password from the terminal `input` without echoing it. */
export function readPassword(prompt: string, input: NodeJS.ReadStream, output: NodeJS.WriteStream): Promise<string> {
  output.write(prompt);
  input.setRawMode(true);
  input.resume();
  return new Promise((resolve, reject) => {
    let password = "";
    const done = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off("data", onData);
      output.write("\n");
      if (error) reject(error);
      else resolve(password);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n" || char === "\u0004") return done();
        if (char === "\u0003") return done(new Error("cancelled"));
        if (char === "\u007f" || char === "\b") password = password.slice(0, -1);
        else password += char;
      }
    };
    input.on("data", onData);
  });
}

/** Runs a command line with /bin/sh (its stderr and a terminal stay the user's), resolving with its stdout. */
export function runCommand(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], { stdio: ["inherit", "pipe", "inherit"], timeout: COMMAND_TIMEOUT_MS });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      if (output.length < MAX_COMMAND_OUTPUT_BYTES) output += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve(output) : reject(new Error(`the token command exited with ${code ?? "a signal"}: ${command}`))));
  });
}
