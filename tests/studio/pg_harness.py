"""A throwaway PostgreSQL for the studio's queue tests and benchmarks:
initdb and pg_ctl in a temporary directory (as the postgres user when run as
root), on 127.0.0.1 and a free port, fsync off."""
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess


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
