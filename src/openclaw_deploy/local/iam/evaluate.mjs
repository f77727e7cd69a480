// The local target's IAM decisions: @cloud-copilot/iam-simulate behind a JSON-lines protocol.
//
// stdin, one JSON object per line:
//   {"op": "load", "roles": {"<role>": [{"name": "...", "policy": {...}}, ...]}}
//   {"op": "eval", "id": 1, "role": "<role>", "principal": "arn:aws:sts::...",
//    "action": "sqs:GetQueueUrl", "resource": "arn:...", "account": "123456789012",
//    "context": {"ecs:cluster": "arn:..."}}
// stdout, one line per eval: {"id": 1, "result": "Allowed" | "ImplicitlyDenied" |
//   "ExplicitlyDenied" | "Error", "errors": ...}
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const roles = new Map()

async function evaluate(request) {
  const policies = roles.get(request.role)
  if (policies === undefined) {
    return { id: request.id, result: 'Error', errors: `unknown role ${request.role}` }
  }
  const answer = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: request.account },
        contextVariables: request.context || {},
      },
      identityPolicies: policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  )
  if (answer.resultType === 'error') {
    return { id: request.id, result: 'Error', errors: answer.errors }
  }
  return { id: request.id, result: answer.overallResult }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (!line.trim()) continue
  let request
  try {
    request = JSON.parse(line)
  } catch (error) {
    process.stdout.write(JSON.stringify({ id: null, result: 'Error', errors: String(error) }) + '\n')
    continue
  }
  if (request.op === 'load') {
    for (const [name, policies] of Object.entries(request.roles)) roles.set(name, policies)
    process.stdout.write(JSON.stringify({ id: request.id ?? null, result: 'Loaded' }) + '\n')
    continue
  }
  let reply
  try {
    reply = await evaluate(request)
  } catch (error) {
    reply = { id: request.id, result: 'Error', errors: String(error && error.stack || error) }
  }
  process.stdout.write(JSON.stringify(reply) + '\n')
}
