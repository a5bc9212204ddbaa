"""Reply connectors: deliver an approved answer back to the social network it came from."""
