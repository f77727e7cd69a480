"""The work behind each command. Services return dataclasses and never print."""
