"""Figures: the plots the chapters share (``plots``) and the boxes-and-arrows diagrams drawn by
code (``diagrams``).
"""
