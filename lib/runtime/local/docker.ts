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
