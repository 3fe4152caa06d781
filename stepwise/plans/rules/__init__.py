"""Treatment-plan rules as plain functions over plain data (no Django imports):
the contents and what a draft needs (content), what changed between versions
(diff), when a review is due (review) and an objective's progress from notes
(progress)."""
