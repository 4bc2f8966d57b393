"""`make run` only, never in the image: the launcher, moto's patches and snapshots.

Production code (webapp/, core/, worker.py) never imports from here.
"""
