"""The batched vision attention function against attending image by image."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from evalharness.models._vision_attention import batched_sdpa


def packed(lengths: list[int], heads: int = 3, dim: int = 8) -> tuple[torch.Tensor, ...]:
    """Random query, key and value of packed images, (1, heads, total, dim), as the vision
    tower hands them over, and the images' boundaries."""
    gen = torch.Generator().manual_seed(sum(lengths))
    q, k, v = (torch.randn(sum(lengths), heads, dim, generator=gen) for _ in range(3))
    bounds = torch.tensor([0, *torch.tensor(lengths).cumsum(0).tolist()], dtype=torch.int32)
    return (*(x.transpose(0, 1).unsqueeze(0) for x in (q, k, v)), bounds)


def image_by_image(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, lengths: list[int]
) -> torch.Tensor:
    """transformers' SDPA way for packed images: one call per image, (1, total, heads, dim)."""
    parts = zip(*(x.split(lengths, dim=2) for x in (q, k, v)), strict=True)
    outs = [F.scaled_dot_product_attention(a, b, c, scale=0.3) for a, b, c in parts]
    return torch.cat(outs, dim=2).transpose(1, 2)


@pytest.mark.parametrize("lengths", [[16, 16, 16, 16], [16], [16, 4, 16], [1, 1, 1]])
def test_packed_images_attend_within_themselves_as_one_by_one(lengths: list[int]) -> None:
    q, k, v, bounds = packed(lengths)
    out, weights = batched_sdpa(None, q, k, v, None, scaling=0.3, cu_seq_lens_q=bounds)
    assert weights is None and out.shape == (1, sum(lengths), 3, 8)
    assert torch.equal(out, image_by_image(q, k, v, lengths))
    # a patch attends to its own image only: changing another image changes nothing here
    if len(lengths) > 1:
        k2 = k.clone()
        k2[:, :, lengths[0] :] += 1.0
        out2, _ = batched_sdpa(None, q, k2, v, None, scaling=0.3, cu_seq_lens_q=bounds)
        assert torch.equal(out2[:, : lengths[0]], out[:, : lengths[0]])


def test_without_boundaries_it_is_transformers_sdpa() -> None:
    q, k, v, _ = packed([12])
    module = torch.nn.Module()
    module.is_causal = False  # type: ignore[assignment]
    out, _ = batched_sdpa(module, q, k, v, None, scaling=0.3)
    expected, _ = sdpa_attention_forward(module, q, k, v, None, scaling=0.3)
    assert torch.equal(out, expected)
