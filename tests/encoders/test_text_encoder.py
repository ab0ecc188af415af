"""The offline text encoder: shape, normalisation, semantics, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from anchorrec.encoders.text import TEXT_DIM, TextEncoder


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder(device="cpu")


def test_shape_dtype_and_unit_norm(encoder: TextEncoder) -> None:
    emb = encoder.encode(["a black leather handbag", "a gold ring", ""])
    assert emb.shape == (3, TEXT_DIM) == (3, encoder.dim)
    assert emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_empty_list_gives_empty_matrix(encoder: TextEncoder) -> None:
    assert encoder.encode([]).shape == (0, TEXT_DIM)


def test_similar_texts_are_closer_than_unrelated(encoder: TextEncoder) -> None:
    a, b, c, d = encoder.encode(
        [
            "A quilted black leather shoulder bag with a gold chain strap.",
            "Black calfskin handbag with chain handle, quilted.",
            "Quarterly earnings fell as interest rates rose.",
            "The recipe needs two eggs and a cup of flour.",
        ]
    )
    assert a @ b > a @ c + 0.3
    assert a @ b > a @ d + 0.3


def test_deterministic_and_batch_size_independent(encoder: TextEncoder) -> None:
    texts = [f"item {i}: a wool coat for the winter season" for i in range(7)]
    one = encoder.encode(texts, batch_size=64)
    two = encoder.encode(texts, batch_size=3)
    np.testing.assert_allclose(one, two, atol=1e-5)
    np.testing.assert_array_equal(one, encoder.encode(texts, batch_size=64))
