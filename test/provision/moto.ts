import { startMoto as startSharedMoto } from "../integration/moto";

/**
 * A moto server for one test file. It may be the server earlier integration files used, so it is
 * reset first: the file sees an empty account, as it would from a server of its own.
 */
export async function startMoto(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const moto = await startSharedMoto();
  await moto.reset();
  return moto;
}
