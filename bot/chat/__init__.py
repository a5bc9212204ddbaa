"""What every chat edge shares: answers to typed commands in each platform's markup."""
