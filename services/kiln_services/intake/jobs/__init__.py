"""Jobs: the work the workers do (batches of proposals, benchmarks)."""
