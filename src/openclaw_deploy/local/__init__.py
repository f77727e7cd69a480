"""The local target: the whole system on this machine, running our real code unchanged.

A background process (`daemon`) runs a moto server for AWS, an API Gateway emulator that invokes
the real Lambda handlers (`apigw`), a local "Fargate" that runs the real container entrypoint when
a handler calls RunTask (`fargate`), the watchdog on its schedule, and the offline model.
`service` is the CLI's side: start, wait, stop, and keep user data across destroy/init.
"""
