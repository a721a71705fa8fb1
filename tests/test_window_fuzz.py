"""20,000 random real events (mouse, keys, dropped files, resizes) through the window's loop:
afterwards it must still answer a key, and no unexpected exception may have been caught."""
import numpy as np
import pygame

from sandbox.app.settings import Settings, TrainSettings
from sandbox.app.window import App

N_EVENTS = 20_000
PER_FRAME = 200

KEYS = [pygame.K_SPACE, pygame.K_LEFT, pygame.K_RIGHT, pygame.K_UP, pygame.K_DOWN, pygame.K_HOME,
        pygame.K_END, pygame.K_ESCAPE, pygame.K_DELETE, pygame.K_PAGEUP, pygame.K_PAGEDOWN,
        pygame.K_F1, pygame.K_F11, pygame.K_F12, pygame.K_LEFTBRACKET, pygame.K_RIGHTBRACKET,
        pygame.K_EQUALS, pygame.K_MINUS, pygame.K_PLUS, pygame.K_KP_PLUS, pygame.K_KP_MINUS,
        pygame.K_RETURN, pygame.K_TAB, pygame.K_BACKSPACE] + \
    [getattr(pygame, f"K_{c}") for c in "abcdefghijklmnoprstuvwxyz0123456789"]
MODS = [0, 0, 0, pygame.KMOD_SHIFT, pygame.KMOD_CTRL, pygame.KMOD_LCTRL | pygame.KMOD_SHIFT,
        pygame.KMOD_ALT, pygame.KMOD_NUM]


def junk_files(tmp_path):
    good = tmp_path / "ok.csv"
    good.write_text("x,y\n0,0\n1,1\n2,0\n")
    (tmp_path / "nan.csv").write_text("x,y\n0,nan\n1,1\n")
    (tmp_path / "one.csv").write_text("x,y\n0,0\n")
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 64)
    (tmp_path / "text.npy").write_text("not numpy")
    (tmp_path / "white.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return [str(good), str(tmp_path / "nan.csv"), str(tmp_path / "one.csv"),
            str(tmp_path / "bad.safetensors"), str(tmp_path / "text.npy"), str(tmp_path / "white.png"),
            str(tmp_path), "", "/", "/dev/null", "\x00bad", "no/such/file.csv", "C:\\x.npy",
            "a" * 5000 + ".csv", "~/nothing.png", "file:///etc/passwd"]


def random_event(rng, size, files):
    W, H = size
    r = rng.random()
    pos = (int(rng.integers(-50, W + 50)), int(rng.integers(-50, H + 50)))
    if r < 0.40:
        rel = (int(rng.integers(-40, 40)), int(rng.integers(-40, 40)))
        return pygame.event.Event(pygame.MOUSEMOTION, pos=pos, rel=rel,
                                  buttons=tuple(int(b) for b in rng.integers(0, 2, 3)))
    if r < 0.62:
        t = pygame.MOUSEBUTTONDOWN if rng.random() < 0.5 else pygame.MOUSEBUTTONUP
        return pygame.event.Event(t, pos=pos, button=int(rng.integers(1, 8)))
    if r < 0.68:
        return pygame.event.Event(pygame.MOUSEWHEEL, x=int(rng.integers(-3, 4)), y=int(rng.integers(-3, 4)),
                                  flipped=False)
    if r < 0.93:
        k = KEYS[int(rng.integers(len(KEYS)))] if rng.random() < 0.9 else int(rng.integers(0, 2**31))
        mod = MODS[int(rng.integers(len(MODS)))]
        if k == pygame.K_q and mod & pygame.KMOD_CTRL:
            mod = 0  # the one way to quit on purpose
        t = pygame.KEYDOWN if rng.random() < 0.7 else pygame.KEYUP
        return pygame.event.Event(t, key=k, mod=mod, unicode="x", scancode=0)
    if r < 0.95:
        return pygame.event.Event(pygame.DROPFILE, file=files[int(rng.integers(len(files)))])
    if r < 0.97:
        w, h = int(rng.integers(-100, 3000)), int(rng.integers(-100, 2000))
        return pygame.event.Event(pygame.VIDEORESIZE, size=(w, h), w=w, h=h)
    if r < 0.985:
        return pygame.event.Event(pygame.WINDOWRESIZED, x=int(rng.integers(-10, 2500)), y=int(rng.integers(-10, 1500)))
    if r < 0.99:
        return pygame.event.Event(pygame.TEXTINPUT, text="q\u00e9")
    return pygame.event.Event(pygame.USEREVENT + int(rng.integers(0, 5)), junk=1)


def test_fuzz_events_never_break_the_window(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_SANDBOX_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    tiny = TrainSettings(train_steps=20, batch_size=32, width=16, depth=1, eval_every=0)
    app = App("moons", size=(900, 640), settings=Settings(train=tiny, particles=300),
              load_shipped=False, auto_train=False, out_dir=tmp_path / "out")
    st = app.state
    st.recording.size, st.recording.fps, st.recording.seconds = (96, 64), 5, 0.4
    files = junk_files(tmp_path)
    rng = np.random.default_rng(1234)
    try:
        st.train()
        sent = 0
        while sent < N_EVENTS:
            size = app.screen.get_size()
            for _ in range(PER_FRAME):
                pygame.event.post(random_event(rng, size, files))
            sent += PER_FRAME
            app.run_frames(1)
            assert app.running, "a random event closed the window"
        assert app.errors == 0, [m.text for m in st.messages if m.level == "error"][-5:]
        # still responsive: close whatever is open, then a key still toggles a layer
        for k in (pygame.K_ESCAPE, pygame.K_ESCAPE):
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode="", scancode=0))
        app.run_frames(2)
        before = st.options.particles
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_1, mod=0, unicode="1", scancode=0))
        app.run_frames(1)
        assert st.options.particles != before
        st.stop()
        st.wait_idle(60)
        app.run_frames(1)
        assert app.errors == 0, [m.text for m in st.messages if m.level == "error"][-5:]
    finally:
        app.close()
