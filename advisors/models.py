"""Models of the advisors app arrive with their issue."""
