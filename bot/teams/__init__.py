"""Microsoft Teams edge: Adaptive Cards, action ids and the app package."""
