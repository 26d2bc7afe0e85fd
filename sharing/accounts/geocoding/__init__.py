"""Where sites are: addresses geocoded through a configured geocoder (geopy), its answers kept in
the database; the locality's position when it cannot answer; never a silent zero."""
