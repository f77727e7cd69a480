"""Thin typed wrappers over the AWS calls the CLI makes; ClientError codes become our errors."""
