"""File helpers shared by the recipes: a file's digest (for caches and the base model check)."""
import hashlib


def file_digest(path, algorithm="sha256"):
    """Hex digest of a file's bytes, read in 1 MiB pieces."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
