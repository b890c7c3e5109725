"""Publishing stored results: the HTML reports and the LMS exports. Reads results, never grades."""
