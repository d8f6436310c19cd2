"""ganvoice's model recipes (acoustic model, vocoder, speaker encoder) as one package.

Run every script from the repository root as a module, with Debian's Python:
  /usr/bin/python3 -m models.acoustic.train --help
models.common holds what the recipes share.
"""
