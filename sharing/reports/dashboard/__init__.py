"""The dashboard: a selection's figures, aggregated in SQL, as charts and tables, each linking
down to the entries and events behind it; the selection travels in the URL."""
