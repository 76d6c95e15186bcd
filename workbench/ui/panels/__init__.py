"""Dockable panels, each fed from the latest Snapshot (see base.Panel)."""
