"""Data for the chapters: toy tasks, windows, streams for stateful training; one module per job."""
