"""`python -m bot …` is the same as `webcare …`."""

from bot.cli import main

main()
