"""Listings: their lifecycle, who may see and change them, and Swedish search with the map."""
