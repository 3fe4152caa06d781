"""Stepwise: clinical operations for opioid addiction treatment programs."""
