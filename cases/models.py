"""Models of the cases app arrive with their issue."""
