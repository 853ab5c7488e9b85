"""The demo: a small, realistic marketplace and the story of its takedowns."""
