"""Driving the app under tmux from the campaign scripts (crash_campaign.py, soak.py)."""
import subprocess


def tmux(*args):
    return subprocess.run(["tmux", *args], capture_output=True, text=True).stdout


def screen(session):
    return tmux("capture-pane", "-t", session, "-p")


def app_pid(session):
    """The app's process: the child of the pane's shell."""
    shell = tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip()
    out = subprocess.run(["pgrep", "-P", shell, "-x", "glimpse"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None
