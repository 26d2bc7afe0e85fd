"""The category tree and its climate figures, versioned with their sources."""
