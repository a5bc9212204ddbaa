"""Test suite of the webcare bot."""
