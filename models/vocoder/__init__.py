"""The GAN vocoder recipe: data pack, training, export and the copy-synthesis evaluation."""
