"""Pure analysis of a run: detectors, verdict, timeline. No I/O, no event loop."""
