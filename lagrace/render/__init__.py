"""Pure text rendering of findings: the terminal verdict and timeline, the Markdown summary."""
