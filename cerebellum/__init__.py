"""cerebellum room."""
