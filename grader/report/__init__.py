"""Reports: the self-contained HTML page, result.json and Gradescope results."""
