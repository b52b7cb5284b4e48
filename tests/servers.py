"""A real `mlflow server` for the tests that need one."""
import contextlib
import os
import os.path as osp
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Dict, Iterator, Optional


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def start_mlflow_server(backend_store_uri: str, folder: str,
                        port: Optional[int] = None, workers: int = 1,
                        env: Optional[Dict[str, str]] = None,
                        timeout: float = 120) -> subprocess.Popen:
    """`mlflow server` on 127.0.0.1 (a free port unless given) over
    ``backend_store_uri``, artifacts and log under ``folder``, in its own
    process group; returns once ``/health`` answers, with ``.uri`` set."""
    port = port or free_port()
    uri = f'http://127.0.0.1:{port}'
    log_path = osp.join(folder, f'mlflow_server_{time.time_ns()}.log')
    with open(log_path, 'w') as log:
        server = subprocess.Popen(
            [sys.executable, '-m', 'mlflow', 'server', '--backend-store-uri',
             backend_store_uri, '--default-artifact-root',
             osp.join(folder, 'server_artifacts'), '--host', '127.0.0.1',
             '--port', str(port), '--workers', str(workers)],
            stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
    server.uri = uri
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(uri + '/health', timeout=1)
            return server
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                stop_server(server)
                with open(log_path) as file:
                    raise AssertionError('mlflow server did not start:\n'
                                         + file.read()[-3000:])
            time.sleep(0.3)


def stop_server(server: subprocess.Popen, kill: bool = False) -> None:
    """Stop the server and its workers (its process group): SIGTERM, or
    SIGKILL with ``kill`` or when it does not exit within 20 s."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=30)


@contextlib.contextmanager
def mlflow_server(backend_store_uri: str, folder: str,
                  **kwargs) -> Iterator[str]:
    """:func:`start_mlflow_server` as a context; yields the URI."""
    server = start_mlflow_server(backend_store_uri, folder, **kwargs)
    try:
        yield server.uri
    finally:
        stop_server(server)
