"""The pygame window: a thin shell (`window.py`) over a plain state object (`state.py`).

    from sandbox.app.state import AppState     # every user action, no display needed
    from sandbox.app.window import App, run    # the window; run() is `diffusion-sandbox`

Nothing here is imported eagerly: importing the package must not open pygame or load torch.
"""
