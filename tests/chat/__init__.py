"""Chat tests: what every chat edge shares (pacing, Retry-After-aware retries), without a platform."""
