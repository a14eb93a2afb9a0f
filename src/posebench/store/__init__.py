"""Saved runs on disk: run folders, their sidecar files, owners and references."""
