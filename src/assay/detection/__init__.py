"""Detection: find counterfeit listings across a catalog, and explain every flag."""
