"""The Lambda handlers: HTTP API (`api`), Telegram webhook (`telegram_webhook`), WebSocket
(`ws`) and the scheduled `watchdog`. Each module exposes `handler(event, context)`.

They import only the standard library, boto3/botocore and `openclaw_deploy.runtime`, so the
Lambda package needs no bundling and a cold start costs little more than `import boto3`.
The local target invokes the same functions with the same API-Gateway-shaped events.
"""
