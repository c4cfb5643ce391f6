#!/usr/bin/env python3
"""Kill -9 at random moments while answers stream and conversations are saved, then check the history.

Each round starts the app under tmux on a text model (Gemma 3 270M by default: its answers stream for seconds),
asks questions one after another, and kills the process with SIGKILL at a random moment: mid-answer, between
answers, while the app starts. The harness watches the screen, so it knows how many answers had finished when
the kill came and since when the answer in flight had been streaming. Afterwards it opens the database with
Python's sqlite3 (not Glimpse's code) and checks that

  - PRAGMA integrity_check says ok;
  - every earlier round's conversation is still there, whole;
  - this round's conversation holds every finished answer, stored as complete;
  - an answer that had streamed for more than two seconds is there, marked incomplete, and its last checkpoint
    is at most two seconds (plus one token and the screen's polling) older than the kill.

Prints a line per round and a summary; exits 1 on any failure.
    tools/crash_campaign.py --rounds 100
"""
import argparse
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

from tmux_app import app_pid, screen, tmux

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUESTIONS = ["Tell me a long story about a red circle.", "Describe a walk in a forest, step by step.",
             "Explain how a star is born, in detail.", "Write a letter to a friend about the sea."]





def wait(session, predicate, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = screen(session)
        if predicate(s):
            return s
        time.sleep(0.03)
    raise RuntimeError("timed out; screen:\n" + screen(session))


def conversations(db_path):
    """{id: (answers complete, answers incomplete, updated)} read with sqlite3, and the integrity check."""
    if not os.path.exists(db_path):
        return {}, "ok"
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    integrity = "; ".join(r[0] for r in db.execute("PRAGMA integrity_check"))
    found = {}
    for cid, updated in db.execute("SELECT id, updated FROM conversation"):
        complete = db.execute("SELECT count(*) FROM turn WHERE conversation=? AND role='assistant' AND complete=1",
                              (cid,)).fetchone()[0]
        partial = db.execute("SELECT count(*) FROM turn WHERE conversation=? AND role='assistant' AND complete=0",
                             (cid,)).fetchone()[0]
        found[cid] = (complete, partial, updated)
    db.close()
    return found, integrity


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/glimpse"))
    models = os.environ.get("GLIMPSE_TEST_MODELS", os.path.expanduser("~/.cache/glimpse/test-models"))
    ap.add_argument("--model", default=os.path.join(models, "gemma-3-270m-q4_k_m.gguf"))
    ap.add_argument("--longest", type=float, default=10.0, help="the latest kill, in seconds after the model is ready")
    args = ap.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("crash_campaign: needs tmux")
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="glimpse-crash-")
    db_path = os.path.join(work, "data/glimpse/history.sqlite")
    env = f"TERM=xterm-256color XDG_DATA_HOME={work}/data XDG_STATE_HOME={work}/state GLIMPSE_MODELS={work}/none"
    session = f"glimpse-crash-{os.getpid()}"
    expected = {}   # conversation id -> finished answers, from earlier rounds
    failures, lost, moments = [], [], {"starting": 0, "streaming": 0, "between": 0}
    for round_ in range(1, args.rounds + 1):
        before = set(conversations(db_path)[0])
        tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30",
             f"{env} {args.binary} --graphics symbols --model {args.model}; sleep 30")
        # About one kill in ten comes while the app starts (before the model is ready).
        kill_after = rng.uniform(-args.longest / 10, args.longest)
        start = time.time()
        finished, streaming_since, state = 0, None, "starting"
        try:
            wait(session, lambda s: "is ready" in s or time.time() - start > kill_after + args.longest / 10)
            ready = time.time()
            if kill_after > 0 and "is ready" in screen(session):
                for line in ("/set max-tokens 600", "/set temperature 0.8"):
                    tmux("send-keys", "-t", session, "-l", line)
                    tmux("send-keys", "-t", session, "Enter")
                asked = 0
                deadline = ready + kill_after
                generating = False
                while time.time() < deadline:
                    s = screen(session)
                    now_generating = "Esc stops" in s
                    if generating and not now_generating and "Enter sends" in s:
                        finished += 1
                        streaming_since = None
                    if not now_generating and "Enter sends" in s and asked == finished:
                        tmux("send-keys", "-t", session, "-l", QUESTIONS[asked % len(QUESTIONS)])
                        tmux("send-keys", "-t", session, "Enter")
                        asked += 1
                    if now_generating and not generating:
                        streaming_since = time.time()
                    generating = now_generating
                    time.sleep(0.02)
                state = "streaming" if generating else "between"
        except RuntimeError as e:
            failures.append(f"round {round_}: {e}")
        pid = app_pid(session)
        killed_at = time.time()
        if pid:
            os.kill(pid, 9)
        time.sleep(0.3)
        tmux("kill-session", "-t", session)
        moments[state] += 1

        found, integrity = conversations(db_path)
        problems = []
        if integrity != "ok":
            problems.append(f"integrity_check: {integrity}")
        for cid, answers in expected.items():
            if cid not in found or found[cid][0] < answers:
                problems.append(f"earlier conversation {cid} lost answers ({found.get(cid)} < {answers})")
        new = [c for c in found if c not in before]
        if finished > 0 and not new:
            problems.append(f"{finished} finished answers, but no new conversation in the history")
        note = ""
        if new:
            cid = new[0]
            complete, partial, updated = found[cid]
            if complete < finished:
                problems.append(f"{cid}: {complete} complete answers stored, {finished} finished on screen")
            if streaming_since and killed_at - streaming_since > 2.5:
                behind = killed_at - updated
                lost.append(behind)
                note = f", last checkpoint {behind:.2f} s before the kill"
                if partial != 1:
                    problems.append(f"{cid}: the answer in flight for {killed_at - streaming_since:.1f} s is not stored")
                if behind > 2.0 + 0.5:
                    problems.append(f"{cid}: the last checkpoint was {behind:.2f} s before the kill (more than 2 s)")
            expected[cid] = finished
        status = "ok" if not problems else "FAIL " + "; ".join(problems)
        print(f"round {round_:3d}: killed at {kill_after:4.1f} s ({state}), {finished} answers finished{note}: {status}",
              flush=True)
        failures += [f"round {round_}: {p}" for p in problems]

    found, integrity = conversations(db_path)
    print(f"\n{args.rounds} kills ({moments['starting']} while starting, {moments['streaming']} mid-answer, "
          f"{moments['between']} between answers); {len(found)} conversations in the history, integrity {integrity}")
    if lost:
        print(f"answer in flight: last checkpoint before the kill {sum(lost) / len(lost):.2f} s on average, "
              f"{max(lost):.2f} s at most ({len(lost)} kills after more than 2.5 s of streaming)")
    print(f"failures: {len(failures)}")
    for f in failures:
        print("  " + f)
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
