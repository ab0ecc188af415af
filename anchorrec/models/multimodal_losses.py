"""The training objective of the AnchorRec family (the maths: docs/models.md).

``loss = BPR + λ_l2 · L2 + UIM + AAL + AMP (+ smoothness)`` for ``anchor`` and its ablations
(:func:`anchor_terms`), and AlignRec's alignment, cosine and similarity terms for ``direct``
(:func:`direct_terms`); each variant's model class picks its terms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from anchorrec.data.dataset import FUSED, IMAGE, TEXT
from anchorrec.models import losses
from anchorrec.models.base import Batch
from anchorrec.models.graphs import SparseGraph, smoothness

if TYPE_CHECKING:
    from anchorrec.models.multimodal import MultimodalRecommender, _Forward


def multimodal_loss(model: MultimodalRecommender, batch: Batch) -> dict[str, torch.Tensor]:
    """BPR + L2 + the variant's alignment terms of one batch (key ``total``: their sum)."""
    cfg = model.config
    n_pos = len(batch.pos_items)
    rows = torch.cat([batch.pos_items, batch.neg_items])
    fw = model._forward(branches=model.loss_reads_user_branches, item_rows=rows)
    hu = fw.users[batch.users]
    hp, hn = fw.items.split_with_sizes([n_pos, len(batch.neg_items)])
    terms = {
        "bpr": losses.bpr(hu, hp, hn),
        "l2": cfg.l2_weight * losses.l2_penalty(hu, hp, hn, rows=l2_rows(model, hu)),
    }
    terms.update(model._alignment_terms(fw, batch, hu, hp, hn))
    terms["total"] = sum(terms.values(), torch.zeros((), device=model.device))
    return terms


def anchor_terms(
    model: MultimodalRecommender,
    fw: _Forward,
    batch: Batch,
    hu: torch.Tensor,
    hp: torch.Tensor,
    hn: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """Weighted loss terms beyond BPR and L2 (AnchorRec's UIM, AAL, AMP, smoothness)."""
    cfg = model.config
    pos = batch.pos_items
    # the batch's rows of Z^mm (and of the anchor) as the recover branch computed them
    z_mm = fw.view_items[FUSED][pos] if fw.fused_rows is None else fw.fused_rows[: len(pos)]
    out = {"uim": cfg.uim_weight * losses.uniformity_margin(hu, hp, hn, cfg.uim_margin)}
    if model.aal_on and cfg.aal_weight > 0:
        head = pos[: cfg.align_batch]
        out["aal"] = cfg.aal_weight * aal(model, fw, head, z_mm[: cfg.align_batch])
    if model.amp_on and cfg.amp_weight > 0:
        groups = losses.batch_groups(pos)  # the batch's distinct items, found once

        def lsim(z: torch.Tensor, m: str) -> torch.Tensor:
            return losses.similarity_preservation(
                z, fw.frozen[m], pos, unit=unit_table(model, m, fw.frozen[m]), groups=groups
            )

        amp = lsim(z_mm, FUSED)
        amp = amp + cfg.amp_text_weight * lsim(fw.view_items[TEXT][pos], TEXT)
        amp = amp + cfg.amp_image_weight * lsim(fw.view_items[IMAGE][pos], IMAGE)
        out["amp"] = cfg.amp_weight * amp
    if cfg.smooth_weight > 0:
        out["smooth"] = cfg.smooth_weight * smoothness_term(model, fw.view_items[FUSED])
    return out


def aal(
    model: MultimodalRecommender, fw: _Forward, pos: torch.Tensor, z_mm: torch.Tensor
) -> torch.Tensor:
    """AAL: anchor ↔ ID view, and sg(anchor) ↔ mixup of the projected raw image and text."""
    tau = model.config.temperature
    if not model.has_projection:  # ablation: align Z^mm and H directly, no heads
        mix = model._mixup(fw.view_items[IMAGE][pos], fw.view_items[TEXT][pos])
        return losses.info_nce(z_mm, fw.id_items[pos], tau) + losses.info_nce(
            z_mm.detach(), mix, tau
        )
    # P_mm(Z^mm) of the batch's rows (positives first) where the recover branch has it
    rows = fw.anchor_rows
    anchor = model.proj_fused(z_mm) if rows is None else rows[: len(pos)]
    if model.config.project_batch_only:
        p_v = model.proj_image(fw.frozen[IMAGE][pos])
        p_t = model.proj_text(fw.frozen[TEXT][pos])
    else:  # the released computation: project every item, then read the batch
        p_v = model.proj_image(fw.frozen[IMAGE])[pos]
        p_t = model.proj_text(fw.frozen[TEXT])[pos]
    return losses.info_nce(anchor, model.proj_id(fw.id_items[pos]), tau) + losses.info_nce(
        anchor.detach(), model._mixup(p_v, p_t), tau
    )


def unit_table(model: MultimodalRecommender, m: str, table: torch.Tensor) -> torch.Tensor | None:
    """The reduced, frozen table of ``m`` L2-normalised row-wise, computed once and kept
    while the table is the same tensor, unchanged (the similarity targets read its rows
    every step). None for the raw tables (``trainable_features``): no copy of those."""
    if model.config.trainable_features or table.requires_grad:
        return None
    cache = model._unit_cache
    hit = cache.get(m)
    if hit is not None and hit[0] is table and hit[1] == table._version:
        return hit[2]
    with torch.no_grad():
        unit = F.normalize(table.float(), dim=1)
    cache[m] = (table, table._version, unit)
    return unit


def l2_rows(model: MultimodalRecommender, hu: torch.Tensor) -> int:
    """What the L2 term divides by: the configured batch size (released) or the rows."""
    return model.config.train.batch_size if model.config.l2_configured_batch else hu.shape[0]


def smoothness_term(model: MultimodalRecommender, z_mm: torch.Tensor) -> torch.Tensor:
    """mean over the edges (i, j) of S_mm of w_ij ‖Z_i − Z_j‖²."""
    graph = model._graphs(frozenset())[FUSED]
    assert isinstance(graph, SparseGraph)  # the full inputs' kNN graph
    return smoothness(graph, z_mm)


def direct_terms(
    model: MultimodalRecommender,
    fw: _Forward,
    batch: Batch,
    hu: torch.Tensor,
    hp: torch.Tensor,
    hn: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """AlignRec's terms: Z^mm ↔ H (items and users), cosine h_u·h_i, similarity preservation."""
    cfg = model.config
    pos, users = batch.pos_items, batch.users
    tau = cfg.direct_temperature
    assert fw.id_users is not None  # direct's loss reads the user branches
    z_items = fw.view_items[FUSED][pos]
    head, head_users = pos[: cfg.align_batch], users[: cfg.align_batch]
    align = losses.info_nce(z_items[: cfg.align_batch], fw.id_items[head], tau) + losses.info_nce(
        fw.view_users[FUSED][head_users], fw.id_users[head_users], tau
    )
    return {
        "align": cfg.direct_alpha * align,
        "cos": cfg.direct_cos_weight * (1 - F.cosine_similarity(hu, hp, dim=1)).mean(),
        "sim": cfg.direct_gamma * losses.similarity_preservation(z_items, fw.frozen[FUSED], pos),
    }
