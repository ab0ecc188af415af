"""Helpers shared by the bench scripts (importable: ``import bench.common.benchlib``)."""
