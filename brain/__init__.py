"""brain room."""
