"""The real planner and dispatcher on a simulated clock: the demo (and, later, forecasts)."""
