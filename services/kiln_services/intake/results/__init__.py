"""Results: post measured samples (JSON or CSV), list and export them."""
