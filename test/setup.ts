// Pulumi and the embedded Step Functions runner read these at import time; keep test runs offline and quiet.
process.env.PULUMI_SKIP_UPDATE_CHECK = "true";
process.env.AWS_REGION ??= "us-east-1";
