import { spawn } from "node:child_process";

/** Whether a Docker engine answers (`docker info`), within a few seconds. */
export function isDockerReachable(timeoutMs = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: "ignore" });
    } catch {
      resolve(false);
      return;
    }
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(false);
    }, timeoutMs);
    child.on("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

/**
 * Removes a processor's container (`docker rm -f`) once its `docker run` client was killed: the
 * client dies with its process group, but the container it started runs on in the engine until
 * told otherwise. Never fails: a container that is already gone (`--rm` after a clean exit) is the
 * usual case. Resolves once the CLI has answered, or after `timeoutMs`.
 */
export function removeContainer(name: string, env: NodeJS.ProcessEnv, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn("docker", ["rm", "-f", name], { stdio: "ignore", env });
    } catch {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve();
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    child.on("error", done);
    child.on("exit", done);
  });
}
