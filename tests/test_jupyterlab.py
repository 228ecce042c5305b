"""JupyterLab, as a student uses it: the venv's `jupyter lab` serves the repository, lists the
chapter notebooks, and runs `nbs/00_data.ipynb` cell by cell in a real kernel (REST API + kernel
websocket); then it shuts down cleanly."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest
import requests
import websocket

pytestmark = [pytest.mark.jupyter, pytest.mark.slow]

STARTUP_TIMEOUT = 60
CELL_TIMEOUT = 60


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path, repo_root):
    """A running `jupyter lab` on 127.0.0.1 serving the repository, with its own config, data and
    runtime folders."""
    jupyter = Path(sys.executable).with_name("jupyter")
    assert jupyter.exists(), f"{jupyter} is missing: the dev install must bring JupyterLab"
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    for var, sub in [
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("IPYTHONDIR", "ipython"),
        ("COURSEWORK_CACHE", "cache"),
    ]:
        env[var] = str(tmp_path / sub)
    env.pop("COURSEWORK_DOWNLOAD", None)
    log = open(tmp_path / "lab.log", "w+")
    proc = subprocess.Popen(
        [
            str(jupyter),
            "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={repo_root}",
            "--ServerApp.terminals_enabled=False",
            "--LabApp.extension_manager=readonly",
        ]
        + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"

    def server_log():
        log.seek(0)
        return log.read()[-4000:]

    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert proc.poll() is None, (
                f"jupyter lab exited with {proc.returncode}:\n{server_log()}"
            )
            try:
                if session.get(f"{base}/api/status", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, (
                f"jupyter lab not ready after {STARTUP_TIMEOUT} s:\n{server_log()}"
            )
            time.sleep(0.25)
        yield {"base": base, "token": token, "session": session, "proc": proc, "log": server_log}
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def _execute(ws, code, timeout=CELL_TIMEOUT):
    """Run `code` on the kernel behind websocket `ws`; return the execute_reply content and any
    iopub error contents."""
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                    "date": "",
                },
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "buffers": [],
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": True,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
            }
        )
    )
    errors, reply, idle = [], None, False
    deadline = time.monotonic() + timeout
    while reply is None or not idle:
        ws.settimeout(max(0.1, deadline - time.monotonic()))
        msg = json.loads(ws.recv())
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg["header"]["msg_type"]
        if kind == "error":
            errors.append(msg["content"])
        elif kind == "execute_reply":
            reply = msg["content"]
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
    return reply, errors


def test_lab_serves_lists_notebooks_and_runs_the_data_chapter(lab, repo_root):
    base, session, token = lab["base"], lab["session"], lab["token"]

    page = session.get(f"{base}/lab", timeout=30)
    assert page.status_code == 200 and "jupyter-config-data" in page.text

    listing = session.get(f"{base}/api/contents/nbs", timeout=30)
    assert listing.status_code == 200
    listed = {item["name"] for item in listing.json()["content"] if item["type"] == "notebook"}
    on_disk = {p.name for p in (repo_root / "nbs").glob("*.ipynb")}
    assert "00_data.ipynb" in listed and listed == on_disk

    started = session.post(
        f"{base}/api/kernels", json={"name": "python3", "path": "nbs"}, timeout=30
    )
    assert started.status_code == 201, started.text
    kernel_id = started.json()["id"]
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{base.rsplit(':', 1)[1]}/api/kernels/{kernel_id}/channels",
        header=[f"Authorization: token {token}"],
        timeout=30,
    )
    try:
        reply, errors = _execute(ws, "import os, sys; print(sys.executable, os.getcwd())")
        assert reply["status"] == "ok" and not errors
        nb = nbformat.read(repo_root / "nbs" / "00_data.ipynb", as_version=4)
        cells = [c.source for c in nb.cells if c.cell_type == "code" and c.source.strip()]
        assert len(cells) > 10
        for i, src in enumerate(cells):
            reply, errors = _execute(ws, src)
            assert reply["status"] == "ok" and not errors, (
                f"code cell {i} of 00_data.ipynb failed in the lab "
                f"kernel:\n{src}\n{errors or reply}"
            )
    finally:
        ws.close()
    assert session.delete(f"{base}/api/kernels/{kernel_id}", timeout=30).status_code == 204

    assert session.post(f"{base}/api/shutdown", timeout=30).status_code == 200
    assert lab["proc"].wait(timeout=30) == 0, lab["log"]()
