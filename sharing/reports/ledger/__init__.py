"""The reuse ledger: entries written from the loans' and logistics' events (``rules.py``),
append-only, corrected by reversing entries; ``receiver.py`` hands it the events."""
