/**
 * Names a compute-node checkout for processes that run node code away from it: the destroy hook's
 * dynamic provider looks for the cleanup module there when the path it recorded has moved (the
 * provisioner service's inline programs run from work directories of their own, and set it).
 */
export const CHECKOUT_ROOT_ENV = "COMPUTE_NODE_ROOT";
