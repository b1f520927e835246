"""Tests of lagrace.render."""
