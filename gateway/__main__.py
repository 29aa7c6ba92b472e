"""`python -m gateway` runs the `helhed` command."""

from gateway.cli import app

app(prog_name="helhed")
