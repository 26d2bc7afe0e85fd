"""Wanted items (efterlysningar): what units need, matched against new listings."""
