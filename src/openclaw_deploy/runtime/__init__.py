"""Code that runs in the cloud as well as in the CLI: stdlib + boto3 only, fast to import.

Shared by the Lambda handlers, the bridge in the agent container and the local target.
"""
