"""Storms: priority scoring with reasons, text folding for matching, and the grouping and spike rules."""
