"""The speaker encoder recipe: training, export and the cloning evaluation."""
