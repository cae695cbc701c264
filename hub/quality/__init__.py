"""Rule catalogue, record checks and partner feedback."""
