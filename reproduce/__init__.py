"""``python -m reproduce``: run every notebook of the book for a profile, cache the results, build the book."""
