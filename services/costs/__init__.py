"""Costs: spend queries over stored billing lines and the daily cost series the cost forecasts are fitted on."""
