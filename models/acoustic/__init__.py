"""The acoustic model recipe: data, alignment, training, export and the TTS evaluation."""
