"""What the studio's queue tests and benchmarks share: a throwaway
PostgreSQL (initdb and pg_ctl in a temporary directory, as the postgres user
when run as root, on 127.0.0.1 and a free port, fsync off), and the studio
as a process with --queue postgresql://… and its HTTP API."""
import glob
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import threading


def pg_bin():
    """The directory of initdb and pg_ctl, or None."""
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(re.sub(r"\D", "", p) or 0),
                    reverse=True):
        if os.path.exists(os.path.join(d, "initdb")) and os.path.exists(os.path.join(d, "pg_ctl")):
            return d
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return os.path.dirname(os.path.realpath(initdb))
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Postgres:
    def __init__(self, bindir, root):
        self.bindir = bindir
        self.dir = os.path.join(root, "pg")
        os.mkdir(self.dir)
        self.user = None
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root.
            self.user = pwd.getpwnam("postgres")
            os.chmod(root, 0o755)
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        self.port = free_port()
        self.run("initdb", "-D", self.dir + "/data", "-A", "trust", "-U", "ganvoice", "--no-sync",
                 "-E", "UTF8", "--locale=C")
        self.run("pg_ctl", "-D", self.dir + "/data", "-l", self.dir + "/log", "-w", "-t", "60",
                 "-o", "-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off"
                 % (self.port, self.dir), "start")
        self.url = "postgresql://ganvoice@127.0.0.1:%d/postgres" % self.port

    def run(self, prog, *args):
        cmd = [os.path.join(self.bindir, prog)] + list(args)
        kw = {}
        if self.user:
            uid, gid = self.user.pw_uid, self.user.pw_gid

            def demote():
                os.setgid(gid)
                os.setuid(uid)
            kw["preexec_fn"] = demote
            kw["cwd"] = self.dir
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
        if r.returncode != 0:
            raise RuntimeError("%s failed: %s" % (prog, r.stdout))
        return r.stdout

    def sql(self, query):
        """Rows of a query, as lists of text."""
        r = subprocess.run([os.path.join(self.bindir, "psql"), self.url, "-X", "-At", "-F", "\t", "-c", query],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError("psql: " + r.stderr)
        return [line.split("\t") for line in r.stdout.splitlines() if line]

    def stop(self):
        try:
            self.run("pg_ctl", "-D", self.dir + "/data", "-m", "immediate", "stop")
        except RuntimeError:
            pass


class StudioProcess:
    """ganvoice-studio on a queue URL; @env is added to the environment."""

    def __init__(self, exe, data, url, token_file, port=0, env=None, extra=()):
        full = dict(os.environ)
        full.update(env or {})
        self.log = open(os.path.join(os.path.dirname(data), "studio.log"), "a")
        self.proc = subprocess.Popen([exe, "--port", str(port), "--data-dir", data, "--queue", url,
                                      "--worker-token-file", token_file] + list(extra),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=full, text=True,
                                     errors="replace")
        line = self.proc.stdout.readline()
        m = re.search(r"listening on http://[^:]+:(\d+)/", line)
        if not m:
            raise RuntimeError("studio did not start: " + line + self.proc.stdout.read())
        self.port = int(m.group(1))

        def drain():
            for line in self.proc.stdout:
                self.log.write(line)
                self.log.flush()
        threading.Thread(target=drain, daemon=True).start()

    def request(self, method, path, body=None, headers=None, token=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        h = dict(headers or {})
        if token:
            h["X-Studio-Token"] = token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        try:
            return r.status, json.loads(data) if data else None
        except ValueError:
            return r.status, data

    def upload(self, pid, tok, kind, path, chunk=4 * 1024 * 1024):
        """Uploads a file in chunks; the upload once ready."""
        size = os.path.getsize(path)
        st, u = self.request("POST", "/api/projects/%s/uploads" % pid,
                             {"kind": kind, "name": os.path.basename(path), "size": size}, token=tok)
        if st != 201:
            raise RuntimeError("upload refused: %s" % u)
        offset = 0
        with open(path, "rb") as f:
            while True:
                f.seek(offset)
                data = f.read(chunk)
                st, r = self.request("PUT", "/api/projects/%s/uploads/%s?offset=%d" % (pid, u["id"], offset),
                                     data, token=tok)
                if st != 200 or r.get("state") in ("rejected", "failed"):
                    raise RuntimeError("upload failed: %s %s" % (st, r))
                if r.get("state") == "ready":
                    return r
                offset = r["offset"]

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.log.close()
