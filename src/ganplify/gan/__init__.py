"""The paper's GAN: batched models, the training engine, and a literal reference version."""
