"""Sheets of QR labels that lead from a piece of furniture to its listing."""
