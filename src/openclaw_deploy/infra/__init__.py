"""The embedded CDK app: one construct per logical unit, composed by one stack per deployment.

`spec` (what to build, pure Python) and `staging` (the code assets, pure Python) are cheap to
import; every other module imports `aws_cdk` and is only imported by `synth`, `deploy` and
`destroy` (through `infra.app.synthesize`), so `--help`, `status` and `logs` stay fast.
"""
