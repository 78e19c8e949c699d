"""The note's own material: its printed values and settings, the analysis of sampling and RK4, the
appendix's gradients, and the ledger that compares the note with the book."""
