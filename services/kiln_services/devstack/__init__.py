"""Local development stack: an embedded Redis, the intake, a worker and the virtual lab demo."""
