"""Diagrams drawn by code (boxes and arrows in Matplotlib): ``draw`` holds the primitives,
each other module the figures of one topic."""
