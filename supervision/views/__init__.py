"""The pages of inspections (`inspections`) and rectification orders (`rectification`)."""
