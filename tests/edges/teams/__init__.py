"""Teams edge tests: signed activities in, calls to the fake Bot Connector out."""
