"""``python -m kubesim`` entry point."""

from .cli import main

main()
