"""Tests of lagrace.analysis."""
