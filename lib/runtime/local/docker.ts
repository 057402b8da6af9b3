import { spawn } from "node:child_process";

/**
 * Runs one Docker CLI command with no output and resolves with its exit code, or null when it
 * could not be started or did not answer within `timeoutMs` (then it is killed). Never rejects.
 */
function dockerCli(args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn("docker", args, { stdio: "ignore", ...(env ? { env } : {}) });
    } catch {
      resolve(null);
      return;
    }
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(null);
    }, timeoutMs);
    child.on("error", () => {
      clearTimeout(timer);
      resolve(null);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Whether a Docker engine answers (`docker info`), within a few seconds. */
export async function isDockerReachable(timeoutMs = 5000): Promise<boolean> {
  return (await dockerCli(["info", "--format", "{{.ServerVersion}}"], timeoutMs)) === 0;
}

/**
 * Removes a processor's container (`docker rm -f`) once its `docker run` client was killed: the
 * client dies with its process group, but the container it started runs on in the engine until
 * told otherwise. Never fails: a container that is already gone (`--rm` after a clean exit) is the
 * usual case. Resolves once the CLI has answered, or after `timeoutMs`.
 */
export async function removeContainer(name: string, env: NodeJS.ProcessEnv, timeoutMs = 10_000): Promise<void> {
  await dockerCli(["rm", "-f", name], timeoutMs, env);
}
