"""HTTP plumbing every route and connector shares: bounded bodies, the access log, Standard Webhooks signatures."""
