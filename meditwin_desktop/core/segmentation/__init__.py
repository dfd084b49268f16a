"""Segmentation: masks from images (threshold, region growing), cleanup, edits with undo."""
