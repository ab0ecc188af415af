"""The ``default`` preset's fast training path computes the plain ``default`` maths.

The model's loss batches work that the formulas keep apart: the user side of every scored
view in one product with R̂ (``Σ_m R̂ Z^m = R̂ Σ_m Z^m``), the ID view's LightGCN layers as
products with R̂ and R̂ᵀ instead of the full Â, the batch's rows gathered once per table.
:class:`DefaultReference` restates the ``default`` forward pass and loss term by term with
dense matrices, one view at a time (docs/models.md), reading the model's parameters and its
reduced, frozen feature tables by name. On a tiny dataset the two agree on every loss term
and on the gradient of every parameter, before and after a few Adam steps taken on each side
independently; and the embeddings the model computes for ranking agree with the reference's.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from anchorrec.models import build_model
from anchorrec.models.base import Batch
from anchorrec.models.config import preset_config
from tests.models.reference_ops import batches, dense_knn, info_nce, linear, lsim, mlp

LOSS_RTOL = 1e-5
GRAD_RTOL = 1e-4
GRAD_ATOL = 1e-7
STEPS = 3
BATCH_ROWS = 50
#: fewer in-batch negatives than rows, so the alignment terms read only the batch's head
ALIGN_BATCH = 32
VIEWS = ("fused", "text", "image")


class DefaultReference:
    """The ``default`` forward pass and loss, one view at a time, with dense matrices."""

    def __init__(self, model) -> None:
        self.cfg = model.config
        self.n_users = model.n_users
        r = torch.from_numpy((model._train > 0).toarray().astype(np.float32))
        n = model.n_users + model.n_items
        a = torch.zeros(n, n)
        a[: self.n_users, self.n_users :] = r
        a[self.n_users :, : self.n_users] = r.T
        deg = a.sum(1)
        inv = torch.where(deg > 0, deg.clamp_min(1e-12) ** -0.5, torch.zeros_like(deg))
        self.a_hat = inv[:, None] * a * inv[None, :]
        self.r_hat = self.a_hat[: self.n_users, self.n_users :]
        # the reduced tables are frozen buffers: the model's inputs, P_v / P_t and the targets
        self.feat = {m: getattr(model, f"feat_{m}").detach().clone() for m in VIEWS}
        self.graph = {m: dense_knn(model._raw[m], self.cfg.knn_k) for m in VIEWS}
        self.edges = {m: (g != 0) for m, g in self.graph.items()}

    def forward(self, p: dict[str, torch.Tensor]):
        cfg = self.cfg
        ego = torch.cat([p["user_id"], p["item_id"]])
        layers, x = [ego], ego
        for _ in range(cfg.id_layers):
            x = self.a_hat @ x
            layers.append(x)
        h = torch.stack(layers).mean(0)
        h_u, h_i = h[: self.n_users], h[self.n_users :]
        z_items, z_users = {}, {}
        for m in VIEWS:
            f = linear(p, f"encoder.{m}", self.feat[m])
            z = p["item_id"] * torch.sigmoid(linear(p, f"gate.{m}", f))
            hops, x = [z], z
            for _ in range(cfg.modality_layers):  # Z = mean_l S^l z
                x = self.graph[m] @ x
                hops.append(x)
            z_items[m] = torch.stack(hops).mean(0)
            z_users[m] = self.r_hat @ z_items[m]
        users = h_u + z_users["fused"] + z_users["text"] + z_users["image"]  # every view scored
        anchor_all = mlp(p, "proj_fused", z_items["fused"])
        recover = cfg.recover_lambda * mlp(p, "decoder", anchor_all)
        items = h_i + z_items["fused"] + z_items["text"] + z_items["image"] + recover
        return h_i, z_items, users, items

    def terms(self, p: dict[str, torch.Tensor], batch: Batch) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        h_i, z_items, users, items = self.forward(p)
        u, pos, neg = batch.users, batch.pos_items, batch.neg_items
        hu, hp, hn = users[u], items[pos], items[neg]
        bpr = -F.logsigmoid((hu * hp).sum(1) - (hu * hn).sum(1)).mean()
        l2 = 0.5 * (hu.pow(2).sum() + hp.pow(2).sum() + hn.pow(2).sum()) / len(u)  # the rows
        su = hu.detach()
        uim = F.relu(
            cfg.uim_margin
            + (1 - F.cosine_similarity(su, hp, dim=1))
            - (1 - F.cosine_similarity(su, hn, dim=1))
        ).mean()
        head = pos[: cfg.align_batch]
        anchor = mlp(p, "proj_fused", z_items["fused"][head])
        p_v = mlp(p, "proj_image", self.feat["image"][head])
        p_t = mlp(p, "proj_text", self.feat["text"][head])
        mix = cfg.mixup_image * p_v + (1 - cfg.mixup_image) * p_t
        tau = cfg.temperature
        aal = info_nce(anchor, mlp(p, "proj_id", h_i[head]), tau) + info_nce(
            anchor.detach(), mix, tau
        )
        amp = (
            lsim(z_items["fused"][pos], self.feat["fused"][pos])
            + cfg.amp_text_weight * lsim(z_items["text"][pos], self.feat["text"][pos])
            + cfg.amp_image_weight * lsim(z_items["image"][pos], self.feat["image"][pos])
        )
        z = z_items["fused"]
        rows, cols = self.edges["fused"].nonzero(as_tuple=True)
        w = self.graph["fused"][rows, cols]
        smooth = (w * (z[rows] - z[cols]).pow(2).sum(1)).sum() / len(rows)
        out = {
            "bpr": bpr,
            "l2": cfg.l2_weight * l2,
            "uim": cfg.uim_weight * uim,
            "aal": cfg.aal_weight * aal,
            "amp": cfg.amp_weight * amp,
            "smooth": cfg.smooth_weight * smooth,
        }
        out["total"] = sum(out.values())
        return out


def _compare(model, ref: DefaultReference, params: dict[str, torch.Tensor], batch: Batch):
    model.zero_grad(set_to_none=True)
    for t in params.values():
        t.grad = None
    ours = model.loss(batch)
    theirs = ref.terms(params, batch)
    assert set(ours) == set(theirs)
    for name in theirs:
        assert float(ours[name].detach()) == pytest.approx(
            float(theirs[name].detach()), rel=LOSS_RTOL
        ), name
    ours["total"].backward()
    theirs["total"].backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        torch.testing.assert_close(
            param.grad, params[name].grad, rtol=GRAD_RTOL, atol=GRAD_ATOL, msg=name
        )
    return float(ours["total"].detach())


def _embeddings_match(model, ref: DefaultReference, params: dict[str, torch.Tensor]) -> None:
    emb = model.eval_embeddings()
    with torch.no_grad():
        _, z_items, users, items = ref.forward(params)
    torch.testing.assert_close(emb.users, users, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(emb.items, items, rtol=1e-4, atol=1e-6)
    for m in VIEWS:
        torch.testing.assert_close(emb.item_branches[m], z_items[m], rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(
            emb.user_branches[m], ref.r_hat @ z_items[m], rtol=1e-4, atol=1e-6
        )


@pytest.mark.parametrize("modality_layers", [1, 2])
def test_default_preset_matches_the_plain_loss_and_gradients(tiny_dataset, modality_layers):
    cfg = preset_config(
        "default",
        batch_size=64,
        feature_dim=8,
        align_batch=ALIGN_BATCH,
        modality_layers=modality_layers,
    )
    model = build_model("anchor", tiny_dataset, cfg, seed=0)
    model.train()
    ref = DefaultReference(model)
    params = {name: p.detach().clone().requires_grad_(True) for name, p in model.named_parameters()}
    assert not any(name.startswith("feat_") for name in params)  # default's tables are frozen
    ours_opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    ref_opt = torch.optim.Adam(params.values(), lr=1e-2)
    losses = []
    for batch in batches(tiny_dataset, STEPS + 1, BATCH_ROWS):
        losses.append(_compare(model, ref, params, batch))
        ours_opt.step()
        ref_opt.step()
    assert len(set(losses)) > 1  # the steps moved the parameters
    for name, param in model.named_parameters():
        torch.testing.assert_close(param.detach(), params[name].detach(), rtol=0, atol=1e-4)
    _embeddings_match(model, ref, params)


@pytest.mark.parametrize("layers", [0, 1, 2, 3])
def test_bipartite_lightgcn_is_lightgcn_over_a_hat(tiny_dataset, layers):
    from anchorrec.models.graphs import (
        SparseGraph,
        bipartite_lightgcn,
        lightgcn,
        normalised_bipartite,
    )

    a_hat, r_hat = (SparseGraph(g) for g in normalised_bipartite(tiny_dataset.train))
    gen = torch.Generator().manual_seed(layers)
    e_u = torch.randn(tiny_dataset.n_users, 8, generator=gen, requires_grad=True)
    e_i = torch.randn(tiny_dataset.n_items, 8, generator=gen, requires_grad=True)
    extra = torch.randn(tiny_dataset.n_items, 8, generator=gen, requires_grad=True)
    h = lightgcn(a_hat, torch.cat([e_u, e_i]), layers)
    h_u, h_i = bipartite_lightgcn(r_hat, e_u, e_i, layers)
    torch.testing.assert_close(h_u, h[: tiny_dataset.n_users], rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(h_i, h[tiny_dataset.n_users :], rtol=1e-6, atol=1e-7)
    # with the views' sum: the user side H_u + R̂ Y, value and gradients
    weights = (
        torch.randn(tiny_dataset.n_users, 8, generator=gen),
        torch.randn(tiny_dataset.n_items, 8, generator=gen),
    )
    plain = ((h[: tiny_dataset.n_users] + r_hat.mm(extra)) * weights[0]).sum() + (
        h[tiny_dataset.n_users :] * weights[1]
    ).sum()
    expected = torch.autograd.grad(plain, (e_u, e_i, extra))
    users, items = bipartite_lightgcn(r_hat, e_u, e_i, layers, extra)
    fused = (users * weights[0]).sum() + (items * weights[1]).sum()
    assert float(fused) == pytest.approx(float(plain), rel=1e-6)
    for got, want in zip(torch.autograd.grad(fused, (e_u, e_i, extra)), expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("width", [8, 200])  # narrower and wider than the distinct items
def test_similarity_preservation_with_shared_groups_and_unit_rows(width):
    from anchorrec.models import losses

    gen = torch.Generator().manual_seed(1)
    feats = torch.randn(50, width, generator=gen)
    items = torch.randint(0, 50, (64,), generator=gen)  # with repeats
    z = torch.randn(64, 6, generator=gen, requires_grad=True)
    zd = z.detach().double().requires_grad_(True)
    n = F.normalize(feats[items].double(), dim=1)
    direct = torch.linalg.matrix_norm(zd @ zd.T - n @ n.T) / 64
    (g_direct,) = torch.autograd.grad(direct, zd)
    shared = losses.similarity_preservation(
        z, feats, items, unit=F.normalize(feats, dim=1), groups=losses.batch_groups(items)
    )
    (g_shared,) = torch.autograd.grad(shared, z)
    assert float(shared.detach()) == pytest.approx(float(direct.detach()), rel=1e-5)
    torch.testing.assert_close(g_shared.double(), g_direct, rtol=1e-4, atol=1e-7)


def test_normalised_tables_follow_their_table(tiny_dataset):
    model = build_model("anchor", tiny_dataset, preset_config("default", feature_dim=8), seed=0)
    table = model.feat_text
    first = model._unit_table("text", table)
    torch.testing.assert_close(first, F.normalize(table, dim=1))
    assert model._unit_table("text", table) is first  # kept while the table is unchanged
    with torch.no_grad():
        table.mul_(-1)  # changed in place: normalised again
    torch.testing.assert_close(model._unit_table("text", table), F.normalize(table, dim=1))
    model.feat_text = table * 2 + 1  # another tensor: normalised again
    torch.testing.assert_close(
        model._unit_table("text", model.feat_text), F.normalize(model.feat_text, dim=1)
    )
    paper = build_model("anchor", tiny_dataset, preset_config("paper"), seed=0)
    assert paper._unit_table("text", paper.frozen_text) is None  # raw tables are not copied
