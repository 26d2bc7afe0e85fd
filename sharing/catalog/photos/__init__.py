"""Photos of listings: checked, stripped of metadata, stored beside the database."""
