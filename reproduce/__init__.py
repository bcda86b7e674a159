"""``python -m reproduce``: run every notebook of the book for a scale, cache the results, build the book."""
