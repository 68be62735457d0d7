"""Reading and writing question packs; every problem is reported with its location."""
