"""The pages of the cases app: people in hardship (`recipients`), the checklists (`checklists`)."""
