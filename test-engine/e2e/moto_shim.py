"""moto's server with the smallest additions the engine tier needs (docs/engine.md lists each).

Usage: python3 test-engine/e2e/moto_shim.py -H 127.0.0.1 -p PORT   (the arguments of moto.server)

Each addition makes moto answer what AWS answers where moto 5.2.1 does not: Lambda configuration
fields it drops (a real `pulumi up` followed by `preview` would see a phantom diff), and bucket-policy
conditions it cannot evaluate (the log archive's TLS-only rule would refuse every write).
"""
import sys

from moto.awslambda import models as lambda_models

# Lambda: moto 5.2.1 accepts FileSystemConfigs and KMSKeyArn on CreateFunction and
# UpdateFunctionConfiguration but never returns them, so the provider reads them back empty and
# plans an update of every EFS-mounting (or customer-key encrypted) function on each preview.
_LAMBDA_ECHOED = ("FileSystemConfigs", "KMSKeyArn")

_init = lambda_models.LambdaFunction.__init__
_get_configuration = lambda_models.LambdaFunction.get_configuration
_update_configuration = lambda_models.LambdaFunction.update_configuration


def _lambda_init(self, account_id, spec, region, version=1):
    _init(self, account_id, spec, region, version)
    self._echoed = {k: spec[k] for k in _LAMBDA_ECHOED if spec.get(k)}


def _lambda_get_configuration(self, on_create=False):
    config = _get_configuration(self, on_create)
    config.update(getattr(self, "_echoed", {}))
    return config


def _lambda_update_configuration(self, config_updates):
    echoed = dict(getattr(self, "_echoed", {}))
    for key in _LAMBDA_ECHOED:
        if key in config_updates:
            if config_updates[key]:
                echoed[key] = config_updates[key]
            else:
                echoed.pop(key, None)
    self._echoed = echoed
    return _update_configuration(self, config_updates)


lambda_models.LambdaFunction.__init__ = _lambda_init
lambda_models.LambdaFunction.get_configuration = _lambda_get_configuration
lambda_models.LambdaFunction.update_configuration = _lambda_update_configuration

# S3 bucket policies, two gaps: (1) moto evaluates a bucket policy without any request context, and
# takes a condition on a missing key as met, so the archive's TLS-only statement (Deny s3:* when
# aws:SecureTransport is false) denied every object write; (2) its Bool operator is not evaluated (a Deny
# with a Bool condition always applies). The shim evaluates bucket policies with aws:SecureTransport
# "true" (AWS SDK calls, the provider's and the runtime's, are TLS; moto's loopback is plain HTTP)
# and evaluates Bool conditions of Deny statements: one that does not hold makes the statement
# neutral, as in AWS. The TLS rule's presence is read back by the tier instead.
from moto.iam import access_control  # noqa: E402
from moto.s3 import models as s3_models  # noqa: E402

_statement_permitted = access_control.IAMPolicyStatement.is_action_permitted


def _bool_conditions_hold(condition, values):
    """A Condition of Bool operators only: True/False whether it holds; None for anything else."""
    if set(condition) != {"Bool"}:
        return None
    return all(str((values or {}).get(key, "")).lower() == str(expected).lower() for key, expected in condition["Bool"].items())


def _statement_is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
    statement = self._statement
    if statement.get("Effect") == "Deny" and statement.get("Condition"):
        if _bool_conditions_hold(statement["Condition"], incoming_condition_values) is False:
            return access_control.PermissionResult.NEUTRAL
    return _statement_permitted(self, action, resource, principal, incoming_condition_values)


access_control.IAMPolicyStatement.is_action_permitted = _statement_is_action_permitted


def _bucket_get_permission(self, action, resource):
    if self.policy is None:
        return access_control.PermissionResult.NEUTRAL
    policy = access_control.IAMPolicy(self.policy.decode())
    return policy.is_action_permitted(action, resource, incoming_condition_values={"aws:SecureTransport": "true"})


s3_models.FakeBucket.get_permission = _bucket_get_permission

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
