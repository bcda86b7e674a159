"""The features/head split every model shares (timm's ``forward_features`` / ``forward_head``)."""

from __future__ import annotations

from torch import Tensor


class FeaturesThenHead:
    """Mixin: ``forward(x) = forward_head(forward_features(x))`` with ``forward_head = fc(dropout(features))``.

    A model defines ``forward_features`` (clip ``Tensor[N, 3, T, H, W]`` -> pooled features) and the
    ``dropout`` and ``fc`` modules; notebooks can then read features without hooks.
    """

    def forward_head(self, features: Tensor) -> Tensor:
        """Pooled features ``Tensor[N, F]`` -> logits ``Tensor[N, num_classes]``."""
        return self.fc(self.dropout(features))

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x))
