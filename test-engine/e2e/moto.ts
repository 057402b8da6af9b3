import { join } from "node:path";
import { launchMoto, Moto } from "../../test/integration/moto";

export type { Moto };

/** moto's server through moto_shim.py (the gaps the real provider meets), configured like the integration tests'. */
export function startMoto(): Promise<Moto> {
  return launchMoto({ script: [join(__dirname, "moto_shim.py")], purpose: "the engine tier", readyWithinMs: 30_000 });
}
