"""Web views shared by notebooks (`_repr_html_`) and self-contained HTML pages.

    from sandbox.web import trajectory_player
    player = trajectory_player(traj, data=points)    # a Player
    player.fragment()                                # HTML for a notebook output
    player.save("anim.html")                         # one file, opens offline

`dsw.js` / `dsw.css` (package data) hold the players; `encode.py` packs the arrays; `player.py`
builds the animation payload, `tdl/webview.py` the tree's.
"""
from sandbox.web.encode import dequantize, quantize
from sandbox.web.page import Player, asset
from sandbox.web.player import trajectory_player

__all__ = ["Player", "asset", "quantize", "dequantize", "trajectory_player"]
