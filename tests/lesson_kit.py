"""Shared set-up of the lesson tests (tests/test_lessons.py, tests/test_lesson_window.py): tiny
networks, a headless AppState, and driving a lesson the way the window does."""
from lessons import get_lesson
from lessons.lesson import CheckResult
from lessons.runner import LessonRunner
from sandbox.app.settings import Settings, TrainSettings
from sandbox.app.state import AppState

# tiny networks: these tests check the lessons' logic, not the engine's quality (tested elsewhere)
TINY = TrainSettings(train_steps=120, batch_size=256, width=64, depth=2, lr=3e-3, eval_every=0)


def make_state(tmp_path, auto_train=False, particles=2000, **kw) -> AppState:
    return AppState(None, settings=Settings(train=TINY, particles=particles), load_shipped=False,
                    auto_train=auto_train, autosave=False, out_dir=tmp_path, **kw)


def start(name: str, st: AppState) -> LessonRunner:
    r = LessonRunner(get_lesson(name))
    r.start(st)
    st.wait_idle()
    assert r.result is None, r.result      # the setup itself went through
    return r


def check(r: LessonRunner, st: AppState) -> CheckResult:
    st.wait_idle()
    return r.check(st)


def advance(r: LessonRunner, st: AppState) -> None:
    assert r.next(st)
    st.wait_idle()


def train(st: AppState, steps: int) -> None:
    st.set_train(train_steps=steps)
    assert st.train()
    st.wait_idle(120)
    assert not st.training.running and st.errors == 0, [m.text for m in st.messages]
