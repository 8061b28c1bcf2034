"""The batched engine against a literal single-GAN implementation (nn.Linear, nn.Conv1d)."""

import torch

from ganplify.gan.models import (
    Discriminator,
    GanArchitecture,
    Generator,
    MemberStreams,
    dropout_mask,
    init_members,
)
from ganplify.gan.reference import PlainDiscriminator, PlainGenerator, load_member

ARCH = GanArchitecture(
    dim=2,
    latent_dim=12,
    g_hidden=16,
    g_layers=3,
    d_hidden=16,
    d_layers=3,
    embedding=(16, 16, 4),
    dropout=0.5,
)


def test_batched_networks_match_the_literal_implementation():
    streams = MemberStreams([1, 2, 3])
    g, d = Generator(3, ARCH), Discriminator(3, ARCH)
    init_members(g, streams)
    init_members(d, streams)
    z = streams.uniform(7, ARCH.latent_dim) * 2 - 1
    g_keep = streams.uniform(*g.mask_shape(7)) >= ARCH.dropout
    batch = torch.randn(3, 1, 7, 2)
    d_keep = streams.uniform(*d.mask_shape(7)) >= ARCH.dropout
    # the literal implementation takes boolean masks, the engine its float multipliers
    x_batched = g(z, dropout_mask(g_keep.float(), ARCH.dropout))
    phi_batched = d(batch, dropout_mask(d_keep.float(), ARCH.dropout))
    for k in range(3):
        pg, pd = PlainGenerator(ARCH), PlainDiscriminator(ARCH)
        load_member(pg, g, k)
        load_member(pd, d, k)
        torch.testing.assert_close(pg(z[k], g_keep[k]), x_batched[k], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(
            pd(batch[k, 0], d_keep[k]), phi_batched[k, 0], rtol=1e-5, atol=1e-6
        )
