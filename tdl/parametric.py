"""Parametric evolutionary embedding (ParaDime-style): a small MLP maps (features, step) -> 2D.

API (implementation in progress):
    model = ParametricEmbedding.fit(features (S, I, D), config=EmbedConfig(...), epochs=..., ...)
    Y = model.transform(features_new (N, D), step (N,) or int) -> (N, 2) display coordinates
    model.save(path) / ParametricEmbedding.load(path)   # safetensors + JSON
"""
from __future__ import annotations
