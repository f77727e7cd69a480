"""IAM in the local target: every AWS call of each component is authorized against that
component's role as synthesized in the CDK template, before moto serves it."""
