"""Edge tests: each chat platform over its real wire format, against local fakes."""
