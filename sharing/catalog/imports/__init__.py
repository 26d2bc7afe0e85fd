"""Listing a whole inventory at once from a spreadsheet (Excel or CSV)."""
