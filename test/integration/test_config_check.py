#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Integration tests: a configuration check of a running server's own
configuration leaves everything the server owns alone.

kea-dhcp4 -T (Kea 2.4 and later) loads every hook library (load() and
dhcp4_srv_configured) as a check, then unloads them, while the server may be
running with the same configuration: the state file it names must stay
byte for byte as it was (same inode and modification time, nothing beside
it), and the running server must go on answering with its bindings. Kea
2.2 has no -T, and its -t never calls load(): there only -t is run, and the
-T part is reported as skipped, saying why.

kea-bsdp-check on a bindings-database configuration (a real PostgreSQL from
test/pg/with-postgres.sh): it connects, says with which rights, refuses a
database the library could not use, and changes nothing in it. The state
file under Kea's rule for its own files (from 2.6.3): in the data
directory, another folder refused at start, by config-set and by
kea-bsdp-check; on 2.2 any path, as before.

usage (root): test/pg/with-postgres.sh test_config_check.py --hook /abs/libdhcp_bsdp.so
              --bsdpc /abs/bsdpc [-k NAME]

Prints PASS/FAIL (and SKIP with its reason) per test and
"config-check: N passed, N failed"; exits 1 on any failure. Namespaces,
processes and files are removed even on failure."""
import json
import os
import re
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import bsdpnet as B  # noqa: E402
import run as R  # noqa: E402
from test_bindings_db import psql, under_postgres  # noqa: E402

expect = R.expect
ID_1001 = R.ID_1001
ID_1002 = R.ID_1002
ROOT = os.path.dirname(os.path.dirname(HERE))
SCHEMA = os.path.join(ROOT, "store", "bindings_pg.sql")
# A folder no state file may go in from 2.6.3 (and a file nobody may write).
FORBIDDEN = "/etc/cron.d/bsdp-x"


def readme_database():
    """The bindings-database map of the manual's own example (Shared
    bindings in docs/bindings.md), as an operator copies it."""
    with open(os.path.join(ROOT, "docs", "bindings.md")) as f:
        text = f.read()
    m = re.search(r"## Shared bindings.*?```json\n(.*?)```", text, re.S)
    expect(m, "no ```json example under docs/bindings.md's Shared bindings")
    return json.loads("{" + m.group(1) + "}")["bindings-database"]


def db_snapshot():
    """Everything a check could change in the database: its relations, the
    rows of ours (counts and content), the sequence's position."""
    snap = {"relations": psql("SELECT string_agg(relname || ':' || relkind::text, ',' ORDER BY relname)"
                              " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                              " WHERE nspname = 'public'")}
    for table in ("bsdp_bindings", "bsdp_machine_number_free"):
        if psql("SELECT to_regclass('%s') IS NOT NULL" % table) == "t":
            snap[table] = psql("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ','"
                               " ORDER BY t::text)), '') FROM %s t" % table)
    if psql("SELECT to_regclass('bsdp_machine_number_block') IS NOT NULL") == "t":
        snap["sequence"] = psql("SELECT last_value || ':' || is_called"
                                " FROM bsdp_machine_number_block")
    return snap


def drop_schema():
    psql("DROP TABLE IF EXISTS bsdp_bindings, bsdp_machine_number_free;"
         " DROP SEQUENCE IF EXISTS bsdp_machine_number_block")


def role(name, create):
    """A login role, with or without CREATE on schema public (PostgreSQL 15
    gives PUBLIC none)."""
    psql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%s') THEN"
         " CREATE ROLE %s LOGIN PASSWORD 'secret'; END IF; END $$;"
         " %s CREATE ON SCHEMA public %s %s" %
         (name, name, "GRANT" if create else "REVOKE", "TO" if create else "FROM", name))


def snapshot(path):
    """What a check must not change: the file's bytes, inode and
    modification time, and the names in its folder."""
    st = os.stat(path)
    with open(path, "rb") as f:
        data = f.read()
    return {"bytes": data, "inode": st.st_ino, "mtime_ns": st.st_mtime_ns,
            "folder": sorted(os.listdir(os.path.dirname(path)))}


class ConfigCheckSuite(R.Suite):
    ORDER = ["test_check_leaves_state_file_and_server_alone",
             "test_check_leaves_damaged_state_file_alone",
             "test_check_database_readme_example",
             "test_check_database_missing_tables_without_create",
             "test_check_database_dml_only_role",
             "test_check_database_unreachable",
             "test_check_database_table_locked_by_a_dba",
             "test_state_file_in_data_dir",
             "test_state_file_elsewhere_refused"]

    def checks(self):
        """The check options this kea-dhcp4 has; -T (which loads the hook)
        from 2.4 on."""
        return ["-t", "-T"] if B.kea_check_loads_hooks() else ["-t"]

    def run_kea_check(self, kea, flag):
        """kea-dhcp4 FLAG CONFIG on the running server's own configuration, in
        its namespace (its interfaces must exist) with its environment."""
        argv = ["ip", "netns", "exec", self.net.srv, "kea-dhcp4", flag, kea.conf]
        r = B.run(B.with_hook(argv, kea.hook), check=False, timeout=60, env=kea.env())
        out = r.stdout + r.stderr
        expect(r.returncode == 0, "kea-dhcp4 %s: exit %d\n%s" % (flag, r.returncode, out[-2000:]))
        return out

    def selected(self, mac):
        _, opts = self.one_reply(self.inform(B.bsdp_list(extra=bytes([12, 2, 0x05, 0xdc])),
                                             mac=mac))
        d = B.decode_bsdp(opts)
        expect(d is not None and d.get(1) == b"\x01", "not an ACK[LIST]")
        return struct.unpack("!I", d[8])[0] if 8 in d else None

    def check_leaves_alone(self, name, lines, loaded):
        """Starts a server on a state file of these lines, runs every check
        this Kea has on the same configuration, and checks that the file
        and the server are as before each time. loaded: the bindings the
        server (and -T) report loading."""
        folder = os.path.join(self.work, name + "-state")
        os.makedirs(folder)
        state = os.path.join(folder, "bindings.csv")
        with open(state, "w") as f:
            f.write("\n".join(lines) + "\n")
        kea = B.Kea(self.net, self.work, name)
        kea.config(self.args.hook, self.params(**{"state-file": state}))
        self.keas.append(kea)
        kea.start_checked()
        self.kea = kea
        expect(kea.lines(r"BSDP_STATE_LOADED loaded %d binding" % loaded, 5.0),
               "the server did not load %d bindings" % loaded)
        expect(self.selected(self.net.cli_mac) == ID_1002, "the server does not serve the file")
        # Whatever the server itself writes at start (nothing since the
        # library writes only on a change) is done before the snapshot: no
        # temporary file beside it, the file in place.
        expect(B.wait_until(lambda: os.path.exists(state) and all(
            p == "bindings.csv" or ".damaged-" in p for p in os.listdir(folder)), 5.0),
            "the server's own start-up save did not settle: %s" % os.listdir(folder))
        before = snapshot(state)
        for flag in self.checks():
            out = self.run_kea_check(kea, flag)
            if flag == "-T":
                # The check really ran our load(), on the same file.
                m = re.search(r"BSDP_STATE_LOADED loaded (\d+) binding\S* from state file (\S+)", out)
                expect(m and int(m.group(1)) == loaded and m.group(2) == state,
                       "-T did not load the library on %s:\n%s" % (state, out[-2000:]))
            after = snapshot(state)
            changed = [k for k in before if after[k] != before[k]]
            expect(not changed, "kea-dhcp4 %s changed the running server's state file (%s): "
                   "before %r, after %r" % (flag, ", ".join(changed),
                                            {k: before[k] for k in changed},
                                            {k: after[k] for k in changed}))
            expect(kea.alive(), "the server died during kea-dhcp4 %s" % flag)
            expect(self.selected(self.net.cli_mac) == ID_1002,
                   "the server lost its binding after kea-dhcp4 %s" % flag)
            a = self.cmd_ok("bsdp-bindings-list")
            print("    kea-dhcp4 %s: state file unchanged (%d bytes, inode %d), server answers "
                  "LIST and bsdp-bindings-list (%d bindings)" %
                  (flag, len(before["bytes"]), before["inode"],
                   len(a["arguments"]["bindings"])))
        if "-T" not in self.checks():
            print("    SKIP kea-dhcp4 -T: kea-dhcp4 -T needs Kea 2.4+ (this is %s; its -t "
                  "does not call load(), checked above)" % ".".join(map(str, self.version)))
        # The comparison can see a change: the server's own next save.
        self.select_raw(ID_1001)
        expect(B.wait_until(lambda: snapshot(state)["bytes"] != before["bytes"], 5.0),
               "the server did not save a SELECT")
        kea.stop()
        return state

    def select_raw(self, iid):
        _, opts = self.one_reply(self.inform(B.bsdp_select(B.SERVER_IP, iid)))
        d = B.decode_bsdp(opts)
        expect(d is not None and d.get(1) == b"\x02", "SELECT %#x not acknowledged" % iid)

    # ---- tests -------------------------------------------------------------
    def test_check_leaves_state_file_and_server_alone(self):
        lines = [B.STATE_HEADER,
                 "02:00:00:00:07:01,0x%08x,1700000000,1" % ID_1001,
                 "02:00:00:00:07:02,0x%08x,1700000001,2" % ID_1001,
                 "%s,0x%08x,1700000002,3" % (self.net.cli_mac, ID_1002)]
        self.check_leaves_alone("check", lines, 3)

    def test_check_leaves_damaged_state_file_alone(self):
        # Before, load() set a damaged file aside and wrote a new one at once.
        lines = [B.STATE_HEADER, "%s,0x%08x,1700000002,3" % (self.net.cli_mac, ID_1002),
                 "not a binding"]
        state = self.check_leaves_alone("damaged", lines, 1)
        kept = [p for p in os.listdir(os.path.dirname(state)) if ".damaged-" in p]
        expect(len(kept) == 1, "the server's first save did not set the file aside: %s" % kept)

    # ---- kea-bsdp-check on bindings-database ---------------------------------
    def database(self, **over):
        db = {"type": "postgresql", "name": os.environ["PGDATABASE"],
              "host": os.environ["PGHOST"], "port": int(os.environ["PGPORT"]),
              "user": os.environ["PGUSER"], "connect-timeout": 2}
        db.update(over)
        return db

    def check_database(self, name, database):
        """kea-bsdp-check on a configuration with this bindings-database (and
        no state-file, as the manual says), the database compared before
        and after: nothing may change."""
        params = self.params(**{"bindings-database": database})
        del params["state-file"]
        conf = self.check_config(os.path.join(self.work, "check-" + name), params)
        before = db_snapshot()
        r = self.run_check(conf)
        after = db_snapshot()
        expect(before == after, "kea-bsdp-check changed the database:\nbefore %r\nafter  %r\n%s%s"
               % (before, after, r.stdout, r.stderr[-1500:]))
        return r

    def test_check_database_readme_example(self):
        # The manual's example as an operator adapts it: its server and
        # role; tables missing, the role may create them (docs/bindings.md: "its
        # user then needs CREATE on the schema").
        drop_schema()
        db = readme_database()
        role(db["user"], create=True)
        db.update(host=os.environ["PGHOST"], port=int(os.environ["PGPORT"]))
        r = self.check_database("readme", db)
        expect(r.returncode == 0, "the manual's bindings-database refused: exit %d\n%s%s" %
               (r.returncode, r.stdout, r.stderr[-2000:]))
        for want in ("connected as %s" % db["user"], "bsdp_bindings", "missing",
                     "CREATE on schema public: granted", "can work with this database"):
            expect(want in r.stdout, "%r not printed:\n%s" % (want, r.stdout))
        expect(psql("SELECT to_regclass('bsdp_bindings') IS NULL") == "t",
               "the check created the tables")
        print("    " + "\n    ".join(l for l in r.stdout.splitlines() if "database" in l or
                                     l.startswith("  bsdp_")))

    def test_check_database_missing_tables_without_create(self):
        drop_schema()
        role("bsdp_nocreate", create=False)
        r = self.check_database("nocreate", self.database(user="bsdp_nocreate"))
        err = [l for l in r.stderr.splitlines() if l.startswith("kea-bsdp-check:")]
        expect(r.returncode == 1 and err and "'bindings-database'" in err[-1] and
               "bsdp_bindings is missing" in err[-1] and "CREATE on schema public" in err[-1],
               "tables missing, no CREATE: exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
        print("    " + err[-1][:220])

    def test_check_database_dml_only_role(self):
        # What a strict DBA does: the tables made from bindings_pg.sql by
        # their owner, the library's role given rows only, some history in
        # them (rows, a block taken, a free range).
        drop_schema()
        with open(SCHEMA) as f:
            psql(f.read())
        psql("INSERT INTO bsdp_bindings (hw_address, image_id, selected_at, machine_number,"
             " changed_by) VALUES ('02:00:00:00:09:01', 1001, 1700000000, 1, 'dba');"
             " SELECT nextval('bsdp_machine_number_block');"
             " INSERT INTO bsdp_machine_number_free VALUES (2, 63)")
        role("bsdp_dml", create=False)
        grants = ("GRANT SELECT, INSERT, UPDATE, DELETE ON bsdp_bindings, bsdp_machine_number_free"
                  " TO bsdp_dml; GRANT USAGE ON SEQUENCE bsdp_machine_number_block TO bsdp_dml")
        psql(grants)
        r = self.check_database("dml", self.database(user="bsdp_dml"))
        expect(r.returncode == 0 and "can work with this database" in r.stdout,
               "a role with the DML grants refused: exit %d\n%s%s" % (r.returncode, r.stdout,
                                                                    r.stderr[-2000:]))
        print("    " + "\n    ".join(l for l in r.stdout.splitlines() if l.startswith("  bsdp_")))
        # Each right taken away alone is named.
        for revoke, named in (("DELETE ON bsdp_bindings", "no DELETE on bsdp_bindings"),
                              ("INSERT ON bsdp_machine_number_free",
                               "no INSERT on bsdp_machine_number_free"),
                              ("USAGE ON SEQUENCE bsdp_machine_number_block",
                               "no USAGE on bsdp_machine_number_block")):
            psql("REVOKE %s FROM bsdp_dml" % revoke)
            r = self.check_database("dml-less", self.database(user="bsdp_dml"))
            err = [l for l in r.stderr.splitlines() if l.startswith("kea-bsdp-check:")]
            expect(r.returncode == 1 and err and "'bindings-database'" in err[-1] and
                   named in err[-1], "without %s: exit %d\n%s%s" % (revoke, r.returncode,
                                                                  r.stdout, r.stderr))
            print("    without %s: %s" % (revoke, err[-1].split(": ", 2)[-1][:160]))
            psql(grants)

    def test_check_database_unreachable(self):
        # The same socket folder, a port nobody listens on.
        port = int(os.environ["PGPORT"]) + 1
        r = self.check_database("unreachable", self.database(port=port))
        err = [l for l in r.stderr.splitlines() if l.startswith("kea-bsdp-check:")]
        expect(r.returncode == 1 and err and "'bindings-database'" in err[-1] and
               "cannot connect" in err[-1] and str(port) in err[-1],
               "unreachable database: exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
        print("    " + err[-1][:200])
        # A server that accepts and never answers: connect-timeout (2 s) bounds
        # it. Unbounded, the check would wait until kea_bsdp_check's 60 s
        # timeout; the margin above 2 s is the tool's own start (Kea's
        # libraries, the hook, the sets), seconds while the other suites run.
        import socket
        folder = os.path.join(self.work, "silent-pg")
        os.makedirs(folder)
        silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            silent.bind(os.path.join(folder, ".s.PGSQL.5432"))
            silent.listen(4)
            t0 = time.monotonic()
            r = self.check_database("silent", self.database(host=folder, port=5432))
            took = time.monotonic() - t0
        finally:
            silent.close()
        err = [l for l in r.stderr.splitlines() if l.startswith("kea-bsdp-check:")]
        expect(r.returncode == 1 and err and "cannot connect" in err[-1] and took < 2 + 20,
               "a silent server: exit %d after %.1f s\n%s%s" % (r.returncode, took, r.stdout,
                                                               r.stderr))
        print("    silent server: exit 1 after %.1f s: %s" % (took, err[-1].split(": ", 3)[-1][:120]))

    def test_check_database_table_locked_by_a_dba(self):
        # A DBA's session holds every lock on bsdp_bindings: the check asks
        # the catalogue only, so it answers as before, within its bound
        # (statement_timeout and lock_timeout = connect-timeout, 2 s here).
        drop_schema()
        with open(SCHEMA) as f:
            psql(f.read())
        params = self.params(**{"bindings-database": self.database()})
        del params["state-file"]
        conf = self.check_config(os.path.join(self.work, "check-locked"), params)
        before = db_snapshot()     # the lock would hold this up too
        dba = subprocess.Popen(["psql", "-X", "-q", "-c", "BEGIN; LOCK TABLE bsdp_bindings IN ACCESS"
                                " EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ, PGAPPNAME="bsdp-test-dba"))
        try:
            held = B.wait_until(lambda: psql(
                "SELECT count(*) FROM pg_locks WHERE relation = 'bsdp_bindings'::regclass"
                " AND mode = 'AccessExclusiveLock' AND granted") == "1", 10.0)
            expect(held, "the DBA's session did not get its lock")
            t0 = time.monotonic()
            r = self.run_check(conf)
            took = time.monotonic() - t0
        finally:
            # Its server side too (it would sleep on without its client).
            psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                 " WHERE application_name = 'bsdp-test-dba'")
            dba.kill()
            dba.wait(timeout=10)
        expect(r.returncode == 0 and "can work with this database" in r.stdout,
               "with bsdp_bindings locked: exit %d\n%s%s" % (r.returncode, r.stdout,
                                                             r.stderr[-1500:]))
        # Waiting on the lock, it would hang until the DBA's session ended (the
        # 60 s timeout); the margin is the tool's own start (see above).
        expect(took < 2 + 20, "the check took %.1f s with the table locked" % took)
        after = db_snapshot()
        expect(before == after, "the check changed the database: %r, %r" % (before, after))
        print("    bsdp_bindings locked by another session: answered in %.1f s, exit 0" % took)

    # ---- the state file under Kea's rule for its files ------------------------
    def data_dir_kea(self, name, state):
        """A kea-dhcp4 whose data directory is its own folder, with this
        state-file."""
        kea = B.Kea(self.net, self.work, name)
        kea.data_dir = kea.files
        kea.config(self.args.hook, self.params(**{"state-file": state}))
        self.keas.append(kea)
        return kea

    def test_state_file_in_data_dir(self):
        if not B.state_file_in_data_dir():
            # 2.2: a path is taken as written, anywhere (as before).
            state = os.path.join(self.work, "elsewhere", "bindings.csv")
            os.makedirs(os.path.dirname(state))
            kea = self.data_dir_kea("anywhere", state)
            kea.start_checked()
            self.kea = kea
            self.select_raw(ID_1001)
            expect(B.wait_until(lambda: os.path.exists(state), 5.0),
                   "Kea %s: the state file outside the data directory was not written" %
                   ".".join(map(str, B.kea_version())))
            print("    Kea %s: state-file %s taken as written" %
                  (".".join(map(str, B.kea_version())), state))
            return
        # A bare name, and no state-file at all: both in the data directory.
        for name, state, lands in (("bare", "bindings.csv", "bindings.csv"),
                                   ("default", None, "bsdp-bindings.csv")):
            kea = B.Kea(self.net, self.work, "data-" + name)
            kea.data_dir = kea.files
            params = self.params(**({"state-file": state} if state else {}))
            if not state:
                del params["state-file"]
            kea.config(self.args.hook, params)
            self.keas.append(kea)
            kea.start_checked()
            self.kea = kea
            self.select_raw(ID_1001)
            path = os.path.join(kea.files, lands)
            expect(B.wait_until(lambda: os.path.exists(path), 5.0),
                   "state-file %r: nothing written at %s (%s)" % (state, path,
                                                                os.listdir(kea.files)))
            kea.stop()
            print("    state-file %r: written at %s" % (state, path))

    def test_state_file_elsewhere_refused(self):
        if not B.state_file_in_data_dir():
            # 2.2 takes any path: the same in kea-bsdp-check (what a copy
            # reads; FORBIDDEN itself is never used here, it would be written).
            state = os.path.join(self.work, "other", "x.csv")
            conf = self.check_config(os.path.join(self.work, "check-other"),
                                     self.params(**{"state-file": state}))
            r = self.run_check(conf)
            expect(r.returncode == 0 and ("state-file %s:" % state) in r.stdout,
                   "Kea 2.2: kea-bsdp-check refused %s: %d\n%s%s" % (state, r.returncode,
                                                                   r.stdout, r.stderr))
            print("    Kea %s: any state-file path accepted (as before)" %
                  ".".join(map(str, B.kea_version())))
            return
        expect(not os.path.exists(FORBIDDEN), "%s exists before the test" % FORBIDDEN)
        try:
            self.refused_everywhere()
        finally:
            if os.path.exists(FORBIDDEN):
                os.unlink(FORBIDDEN)

    def refused_command(self, kea, name, arguments=None):
        """name answers an error, and the library logs why, naming
        state-file (Kea's answer says only that a library failed)."""
        pattern = "BSDP_LOAD_ERROR.*'state-file'"
        before = len(kea.lines(pattern) or [])
        a = self.cmd(name, arguments)
        B.wait_until(lambda: len(kea.lines(pattern) or []) > before, 2.0)
        line = kea.lines(pattern) or []
        expect(a.get("result") != 0 and len(line) > before,
               "%s with state-file %s: %s\n%s" % (name, FORBIDDEN, json.dumps(a)[:600],
                                                   kea.text()[-1500:]))
        print("    %s: result %d (%s), %s" % (name, a["result"], a["text"][:60],
                                               line[-1].split("BSDP_LOAD_ERROR ", 1)[-1][:120]))

    def refused_everywhere(self):
        # At start: kea-dhcp4 refuses to start, naming state-file and the folder allowed.
        kea = self.data_dir_kea("forbidden", FORBIDDEN)
        expect(not kea.start(), "kea-dhcp4 started with state-file %s" % FORBIDDEN)
        rc = kea.wait_exit(10)
        line = [l for l in kea.text().splitlines() if "BSDP_LOAD_ERROR" in l]
        allowed = "'%s'" % kea.files
        expect(rc not in (None, 0) and line and "'state-file'" in line[0] and
               allowed in line[0] and "'/etc/cron.d'" in line[0],
               "start with state-file %s: exit %r, %s\n%s" % (FORBIDDEN, rc, line,
                                                              kea.text()[-1500:]))
        print("    start: " + line[0].split("BSDP_LOAD_ERROR ", 1)[-1][:200])
        kea.stop()
        # config-set and config-reload: an error answer naming nothing (the
        # library's log names state-file), nothing written there. Kea has
        # unloaded the running library before load() sees the parameters,
        # so it is left without a configuration (DHCP4_CONFIG_UNRECOVERABLE_
        # ERROR, as for any refused hook parameter) until a good one comes:
        # then the bindings saved in the data directory are back.
        kea = self.data_dir_kea("config-set", "bindings.csv")
        kea.start_checked()
        self.kea = kea
        self.select_raw(ID_1002)
        state = os.path.join(kea.files, "bindings.csv")
        expect(B.wait_until(lambda: os.path.exists(state), 5.0),
               "nothing written at %s: %s" % (state, os.listdir(kea.files)))
        with open(kea.conf) as f:
            kept = f.read()
        config = json.loads(kept)
        for entry in config["Dhcp4"]["hooks-libraries"]:
            entry["parameters"]["state-file"] = FORBIDDEN
        self.refused_command(kea, "config-set", config)
        expect(kea.alive(), "kea-dhcp4 died on the refused config-set")
        with open(kea.conf, "w") as f:
            json.dump(config, f, indent=2)
        try:
            self.refused_command(kea, "config-reload")
        finally:
            with open(kea.conf, "w") as f:
                f.write(kept)
        expect(kea.alive(), "kea-dhcp4 died on the refused config-reload")
        expect(not os.path.exists(FORBIDDEN), "%s written" % FORBIDDEN)
        self.cmd_ok("config-set", json.loads(kept))
        listed = self.cmd_ok("bsdp-bindings-list")["arguments"]["bindings"]
        expect(len(listed) == 1 and listed[0].get("image") == ID_1002,
               "the good configuration did not read the bindings back from %s: %s" %
               (state, listed))
        print("    good config-set after: the binding saved in %s is back" % state)
        kea.stop()
        # kea-bsdp-check, with the same data directory.
        conf = self.check_config(os.path.join(self.work, "check-forbidden"),
                                 self.params(**{"state-file": FORBIDDEN}))
        r = B.kea_bsdp_check(self.args.hook, [conf], data_dir=kea.files)
        line = [l for l in r.stderr.splitlines() if "BSDP_LOAD_ERROR" in l]
        allowed = "'%s'" % kea.files
        expect(r.returncode == 1 and line and "'state-file'" in line[0] and allowed in line[0],
               "kea-bsdp-check with state-file %s: exit %d\n%s%s" % (FORBIDDEN, r.returncode,
                                                                     r.stdout, r.stderr))
        print("    kea-bsdp-check: exit 1: " + line[0].split("BSDP_LOAD_ERROR ", 1)[-1][:200])
        expect(not os.path.exists(FORBIDDEN), "%s written" % FORBIDDEN)

    # ---- runner ------------------------------------------------------------
    def run(self):
        self.version = B.kea_version()
        order = [t for t in self.ORDER if not self.args.k or self.args.k in t]
        self.make_sets()
        self.net.up()
        for t in order:
            B.run_test(self, t, after=self.stop_keas)


def main():
    if not under_postgres("config-check"):
        return 1
    args = B.suite_arguments().parse_args()
    return B.run_suite("config-check", ConfigCheckSuite, args,
                       ("kea-dhcp4", "socat", "ip", "psql"))


if __name__ == "__main__":
    sys.exit(main())
