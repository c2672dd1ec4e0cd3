#!/usr/bin/env python3
"""Drive the real RSTUF 1.0 API and worker in-process, for conclave's tests (tests/rstuf.rs).

The API's FastAPI app validates every request (FastAPI's TestClient, no HTTP server); where
the API would queue a Celery task, the task runs at once in the worker's MetadataRepository,
called directly, exactly with the payload the API built. Redis, PostgreSQL and the storage
directory are the caller's (see the environment below); state lives there between calls.

    driver.py migrate                       create the worker's tables (its alembic migrations)
    driver.py online-key NAME PUB_OUT       an Ed25519 online key: PEM in $RSTUF_ONLINE_KEY_DIR/NAME,
                                            its TUF public key (no URI fields) in PUB_OUT
    driver.py bootstrap PAYLOAD             POST /api/v1/bootstrap/
    driver.py validate PAYLOAD              the API's BootstrapPayload model only (exit 1: refused)
    driver.py pending OUT                   GET /api/v1/metadata/sign, the response body to OUT
    driver.py sign BODY                     POST /api/v1/metadata/sign
    driver.py update PAYLOAD                POST /api/v1/metadata/
    driver.py publish PATH FILE             add the artifact FILE as PATH and publish it
    driver.py client ROOT PATH EXPECTED     python-tuf ngclient from ROOT (trusted root bytes):
                                            refresh, download PATH, compare with EXPECTED

Each call prints one JSON line: the worker's task result (or the client's verdict), and exits
1 when the API refuses or the worker reports an error.

Environment: RSTUF_API_SRC, RSTUF_WORKER_SRC (unpacked sources); RSTUF_REDIS_SERVER
(redis://127.0.0.1), RSTUF_REDIS_SERVER_PORT, RSTUF_BROKER_SERVER, RSTUF_DB_SERVER,
RSTUF_STORAGE_BACKEND=LocalStorage, RSTUF_LOCAL_STORAGE_BACKEND_PATH, RSTUF_ONLINE_KEY_DIR,
DATA_DIR.
"""

import json
import os
import shutil
import subprocess
import sys


def fail(msg):
    print(json.dumps({"ok": False, "error": msg}))
    sys.exit(1)


def load_json(path):
    with open(path, "rb") as f:
        return json.load(f)


def worker():
    sys.path.insert(0, os.environ["RSTUF_WORKER_SRC"])
    import redis
    from repository_service_tuf_worker.repository import MetadataRepository

    repo = MetadataRepository.create_service()
    # The worker builds its lock client from RSTUF_REDIS_SERVER alone (port 6379); the
    # services here run on a free port.
    repo._redis = redis.StrictRedis(
        host="127.0.0.1", port=int(os.environ["RSTUF_REDIS_SERVER_PORT"]), db=0
    )
    return repo


def api(repo):
    """The API's app, with Celery's apply_async running the task in `repo` at once."""
    # The API reads its example payloads relative to its source directory.
    os.chdir(os.environ["RSTUF_API_SRC"])
    sys.path.insert(0, os.environ["RSTUF_API_SRC"])
    import repository_service_tuf_api as rapi
    import repository_service_tuf_api.bootstrap as rboot
    from fastapi.testclient import TestClient

    results = []

    def run_now(kwargs=None, task_id=None, **_):
        payload = kwargs["payload"]
        payload["task_id"] = task_id
        action = getattr(repo, kwargs["action"])
        results.append(action(payload, update_state=lambda **_: None))

    rapi.repository_metadata.apply_async = run_now

    class NoThread:
        """The bootstrap route's status poller asks Celery's result backend; not here."""

        def __init__(self, *a, **k):
            pass

        def start(self):
            pass

    rboot.Thread = NoThread
    import app as api_app

    return TestClient(api_app.rstuf_app), results


def answer(response, results, expect=202):
    if response.status_code != expect:
        fail(f"API answered {response.status_code}: {response.text}")
    if not results:
        fail("the API queued no task")
    result = results[-1]
    print(json.dumps(result, default=str))
    if not result.get("status") or result.get("error"):
        sys.exit(1)


def cmd_migrate():
    env = dict(os.environ)
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=os.environ["RSTUF_WORKER_SRC"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(json.dumps({"ok": True}))


def cmd_online_key(name, pub_out):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    priv = Ed25519PrivateKey.generate()
    pem = priv.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with open(os.path.join(os.environ["RSTUF_ONLINE_KEY_DIR"], name), "wb") as f:
        f.write(pem)
    raw = priv.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key = {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": raw.hex()}}
    with open(pub_out, "w") as f:
        json.dump(key, f)
    print(json.dumps({"ok": True}))


def cmd_validate(path):
    payload = load_json(path)
    os.chdir(os.environ["RSTUF_API_SRC"])
    sys.path.insert(0, os.environ["RSTUF_API_SRC"])
    from repository_service_tuf_api.bootstrap import BootstrapPayload

    try:
        BootstrapPayload.model_validate(payload)
    except Exception as e:  # pydantic's ValidationError: the API's 422
        fail(str(e))
    print(json.dumps({"ok": True}))


def cmd_client(root_path, target, expected_path):
    """python-tuf ngclient over the worker's storage directory."""
    import tempfile

    from tuf.api.exceptions import DownloadHTTPError
    from tuf.ngclient import Updater
    from tuf.ngclient.fetcher import FetcherInterface

    class Files(FetcherInterface):
        def _fetch(self, url):
            path = url[len("file://") :]
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                raise DownloadHTTPError(f"{url}: not found", 404)
            yield data

    storage = os.environ["RSTUF_LOCAL_STORAGE_BACKEND_PATH"]
    work = tempfile.mkdtemp()
    meta = os.path.join(work, "metadata")
    os.mkdir(meta)
    with open(root_path, "rb") as f:
        trusted = f.read()
    targets_dir = os.path.join(os.environ["DATA_DIR"], "targets")
    updater = Updater(
        metadata_dir=meta,
        metadata_base_url=f"file://{storage}/",
        target_base_url=f"file://{targets_dir}/",
        target_dir=os.path.join(work, "downloads"),
        fetcher=Files(),
        bootstrap=trusted,
    )
    updater.refresh()
    info = updater.get_targetinfo(target)
    if info is None:
        fail(f"{target}: not in the repository")
    os.mkdir(os.path.join(work, "downloads"))
    got = updater.download_target(info)
    with open(got, "rb") as f, open(expected_path, "rb") as g:
        if f.read() != g.read():
            fail(f"{target}: downloaded bytes differ")
    root = updater._trusted_set.root.version
    print(json.dumps({"ok": True, "root_version": root, "target": target}))


def cmd_publish(path, file):
    import hashlib

    with open(file, "rb") as f:
        data = f.read()
    sha = hashlib.sha256(data).hexdigest()
    repo = worker()
    # Celery's progress reporting waits for a publish task; here publishing follows directly.
    repo._update_task = lambda *a, **k: None
    res = repo.add_artifacts(
        {
            "artifacts": [
                {"path": path, "info": {"length": len(data), "hashes": {"sha256": sha}}}
            ],
            "publish_artifacts": False,
            "task_id": "publish",
        },
        update_state=lambda **_: None,
    )
    if res["details"]["invalid_paths"]:
        fail(f"{path}: no role for it")
    res = repo.publish_artifacts()
    # Consistent snapshots: targets are fetched as DIR/SHA256.NAME.
    head, name = os.path.split(path)
    dest = os.path.join(os.environ["DATA_DIR"], "targets", head)
    os.makedirs(dest, exist_ok=True)
    shutil.copy(file, os.path.join(dest, f"{sha}.{name}"))
    print(json.dumps(res, default=str))
    if not res.get("status"):
        sys.exit(1)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "migrate":
        return cmd_migrate()
    if cmd == "online-key":
        return cmd_online_key(*args)
    if cmd == "validate":
        return cmd_validate(*args)
    if cmd == "client":
        return cmd_client(*args)
    if cmd == "publish":
        return cmd_publish(*args)
    body = load_json(args[0]) if cmd in ("bootstrap", "sign", "update") else None
    out = os.path.abspath(args[0]) if cmd == "pending" else None
    repo = worker()
    client, results = api(repo)
    if cmd == "bootstrap":
        return answer(client.post("/api/v1/bootstrap/", json=body), results)
    if cmd == "sign":
        return answer(client.post("/api/v1/metadata/sign", json=body), results)
    if cmd == "update":
        return answer(client.post("/api/v1/metadata/", json=body), results)
    if cmd == "pending":
        r = client.get("/api/v1/metadata/sign")
        if r.status_code != 200:
            fail(f"API answered {r.status_code}: {r.text}")
        with open(out, "w") as f:
            f.write(r.text)
        print(json.dumps({"ok": True, "roles": sorted(r.json()["data"]["metadata"])}))
        return
    fail(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
