"""What every chat edge shares: answers to typed commands, the doctor's checks, pacing and Retry-After-aware retries."""
