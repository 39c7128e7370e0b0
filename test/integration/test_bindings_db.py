#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Integration tests for the shared bindings store ("bindings-database"):
real kea-dhcp4 processes with the hook and a real PostgreSQL server.

usage (root): test/pg/with-postgres.sh test_bindings_db.py --hook /abs/libdhcp_bsdp.so
              --bsdpc /abs/bsdpc [-k NAME]

with-postgres.sh starts a throwaway server (unix socket only) and says where
in PGHOST/PGPORT/PGDATABASE/PGUSER, and how to stop and start it in
BSDP_PG_CTL. Prints PASS/FAIL per test and "bindings-db: N passed, N
failed"; exits 1 on any failure."""
import glob
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import bsdpnet as B  # noqa: E402
import run as R  # noqa: E402
import test_bindings as T  # noqa: E402

ID_1001 = R.ID_1001
ID_1002 = R.ID_1002
expect = R.expect


def psql(sql):
    r = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c",
                        "SET client_min_messages = warning; " + sql],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise R.Failure("psql %r: %s" % (sql, r.stderr.strip()))
    return r.stdout.strip()


def server(action):
    subprocess.run(os.environ["BSDP_PG_CTL"] + " " + action + " >/dev/null", shell=True,
                   check=True, timeout=60)


def fresh_database():
    psql("DROP TABLE IF EXISTS bsdp_bindings, bsdp_machine_number_free;"
         " DROP SEQUENCE IF EXISTS bsdp_machine_number_block")


def kea_host_schema():
    """Kea's own schema (hosts, leases), made by kea-admin once."""
    if psql("SELECT to_regclass('hosts') IS NOT NULL") == "t":
        return
    r = subprocess.run(["kea-admin", "db-init", "pgsql", "-u", os.environ["PGUSER"], "-p", "",
                        "-n", os.environ["PGDATABASE"], "-h", os.environ["PGHOST"],
                        "-P", os.environ["PGPORT"]], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise R.Failure("kea-admin db-init pgsql: %s" % (r.stdout + r.stderr)[-1500:])


def under_postgres(name):
    """True when test/pg/with-postgres.sh runs this; else says so."""
    missing = [v for v in ("PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "BSDP_PG_CTL")
               if v not in os.environ]
    if missing:
        print("%s: %s not set: run under test/pg/with-postgres.sh" % (name, ", ".join(missing)))
        print("%s: 0 passed, 1 failed" % name)
    return not missing


def db_rows():
    """{hw-address: (image id, machine number, deleted)} in the database."""
    out = psql("SELECT hw_address, image_id, machine_number, deleted FROM bsdp_bindings")
    rows = {}
    for line in out.splitlines():
        mac, image, number, deleted = line.split("|")
        rows[mac] = (int(image), int(number), deleted == "t")
    return rows


class DatabaseSuite(T.BindingSuite):
    ORDER = ["test_selection_shared_by_servers",
             "test_outage_answers_from_memory_and_catches_up",
             "test_load_through_an_outage_loses_nothing",
             "test_locked_table_never_holds_kea",
             "test_reload_during_outage_loses_no_selection",
             "test_strict_role_with_readme_grants",
             "test_bad_database_parameters_refused"]

    def database(self, **over):
        db = {"type": "postgresql", "name": os.environ["PGDATABASE"],
              "host": os.environ["PGHOST"], "port": int(os.environ["PGPORT"]),
              "user": os.environ["PGUSER"], "connect-timeout": 2, "reconnect-wait-time": 200}
        db.update(over)
        return db

    def start_db(self, name, expect_ok=True, database=None, **over):
        """A kea-dhcp4 with the hook keeping its bindings in the database."""
        params = self.params(**over)
        if "state-file" not in over:
            del params["state-file"]
        params["bindings-database"] = database if database is not None else self.database()
        kea = B.Kea(self.net, self.work, name)
        kea.config(self.args.hook, params)
        self.keas.append(kea)
        kea.start_checked() if expect_ok else kea.start()
        self.kea = kea
        return kea

    def test_selection_shared_by_servers(self):
        # Two servers one after the other on the same link (with HA both
        # run at once; docs/two-servers.md): the second knows what the
        # Mac selected through the first, and its machine name.
        fresh_database()
        a = self.start_db("db-a", **{"machine-name-format": "Mac-%04d"})
        expect(self.wait_log(a, r"BSDP_DB_CONNECTED"), "no BSDP_DB_CONNECTED")
        expect(self.wait_log(a, r"BSDP_DB_SCHEMA_CREATED"), "no BSDP_DB_SCHEMA_CREATED")
        others = ["02:00:00:00:05:01", "02:00:00:00:05:02"]
        for m in others:
            self.select_raw(ID_1001, mac=m)
        rc, j, r = self.bsdpc_json("--select", "1002", "--max-size", "1500")
        expect(rc == 0 and j["select"]["result"] == "ack", "bsdpc --select 1002: %s" % r.stderr)
        name = j["select"]["machine_name"]
        mine = self.net.cli_mac
        expect(B.wait_until(lambda: mine in db_rows(), 5.0), "the SELECT never reached the database")
        rows = db_rows()
        expect(rows[mine][0] == ID_1002 and "Mac-%04d" % rows[mine][1] == name,
               "database row %r for machine name %r" % (rows[mine], name))
        a.stop()

        b = self.start_db("db-b", **{"machine-name-format": "Mac-%04d"})
        expect(self.wait_log(b, r"BSDP_DB_CONNECTED"), "no BSDP_DB_CONNECTED on the second")
        expect(not b.lines(r"BSDP_DB_SCHEMA_CREATED"), "the second server created the tables again")
        expect(B.wait_until(lambda: self.selected(self.list_reply()) == ID_1002, 5.0),
               "the second server's LIST lacks the selection (8 = 1002)")
        rc, j, r = self.bsdpc_json("--select", "1002", "--max-size", "1500")
        expect(rc == 0 and j["select"]["machine_name"] == name,
               "machine name %r on the second server, %r on the first" %
               (j and j["select"].get("machine_name"), name))
        # A Mac new to both gets a number neither gave out.
        d = self.select_raw(ID_1001, mac="02:00:00:00:05:03")
        fresh = d.get(130, b"").decode()
        expect(fresh and fresh not in (name,) and
               B.wait_until(lambda: len(db_rows()) == 4, 5.0), "new Mac: %r" % fresh)
        numbers = [n for _, n, _ in db_rows().values()]
        expect(len(set(numbers)) == 4, "machine numbers not unique: %s" % numbers)
        print("    %s selected 1002 through one server; the other lists it and names it %s"
              % (mine, name))
        b.stop()

    def test_outage_answers_from_memory_and_catches_up(self):
        fresh_database()
        kea = self.start_db("db-outage")
        expect(self.wait_log(kea, r"BSDP_DB_CONNECTED"), "no BSDP_DB_CONNECTED")
        macs = ["02:00:00:00:06:%02x" % i for i in range(1, 21)]
        server("stop")
        try:
            for m in macs:
                self.select_raw(ID_1001, mac=m)
                expect(self.selected(self.list_reply(mac=m)) == ID_1001,
                       "%s: LIST lacks its selection while the database is down" % m)
            lost = self.wait_log(kea, r"BSDP_DB_LOST")
            expect(len(lost) == 1, "BSDP_DB_LOST logged %d times" % len(lost))
            expect(B.wait_until(lambda: B.statistic(kea, "bsdp.bindings-db-pending") == 20,
                                5.0), "bsdp.bindings-db-pending is not 20")
        finally:
            server("start")
        expect(self.wait_log(kea, r"BSDP_DB_RESTORED", timeout=15.0), "no BSDP_DB_RESTORED")
        expect(B.wait_until(lambda: set(macs) <= set(db_rows()), 10.0),
               "selections made during the outage never reached the database")
        expect(B.wait_until(lambda: B.statistic(kea, "bsdp.bindings-db-pending") == 0 and
                            B.statistic(kea, "bsdp.bindings-db-outages") == 1, 5.0),
               "statistics after the outage: pending %r, outages %r" %
               (B.statistic(kea, "bsdp.bindings-db-pending"),
                B.statistic(kea, "bsdp.bindings-db-outages")))
        print("    " + lost[0].split("] ", 1)[-1])
        print("    20 SELECTs answered during the outage, all in the database after it")
        kea.stop()

    def test_load_through_an_outage_loses_nothing(self):
        # bsdp-load from new MACs, LIST and SELECT alternating, while the
        # database goes away and comes back: every request answered, and
        # every selection in the database afterwards.
        fresh_database()
        kea = self.start_db("db-load")
        expect(self.wait_log(kea, r"BSDP_DB_CONNECTED"), "no BSDP_DB_CONNECTED")
        tool = os.path.join(os.path.dirname(os.path.abspath(self.args.bsdpc)), "bsdp-load")
        prefix = 0x5d
        argv = ["ip", "netns", "exec", self.net.cli, tool, "--server", B.SERVER_IP,
                "--mode", "mix", "--select-share", "50", "--macs", "new",
                "--mac-prefix", "%02x" % prefix, "--server-id", B.SERVER_IP,
                "--image", "%#x" % ID_1001, "--window", "64", "--duration", "8",
                "--timeout", "3", "--json"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.helpers.append(proc)
        stopped = False
        try:
            # The outage starts once the load is being written, and ends once
            # changes queue up behind it.
            expect(B.wait_until(lambda: B.statistic(kea, "bsdp.bindings-db-written") > 0,
                                5.0), "nothing written to the database under the load")
            server("stop")
            stopped = True
            expect(self.wait_log(kea, r"BSDP_DB_LOST", timeout=5.0), "no BSDP_DB_LOST")
            expect(B.wait_until(lambda: B.statistic(kea, "bsdp.bindings-db-pending") > 100,
                                5.0), "no changes queued during the outage")
            queued = B.statistic(kea, "bsdp.bindings-db-pending")
            server("start")
            stopped = False
            out, err = proc.communicate(timeout=40)
        finally:
            if stopped:
                server("start")
            B.stop_processes([proc])
        r = json.loads(out)
        sent, selects = r["sent"], r["sent"] // 2
        expect(r["answered"] == sent and r["unanswered"] == 0 and r["bad"] == 0,
               "%d of %d answered, %d bad %s" % (r["answered"], sent, r["bad"], r["bad_reasons"]))
        want = {"06:%02x:%s" % (prefix, ":".join("%02x" % b for b in k.to_bytes(4, "big")))
                for k in range(1, sent, 2)}
        expect(B.wait_until(lambda: len(db_rows()) >= len(want), 60.0),
               "%d of %d selections in the database" % (len(db_rows()), len(want)))
        rows = db_rows()
        expect(set(rows) == want and all(v[0] == ID_1001 for v in rows.values()),
               "database holds %d rows, %d of them not selected" %
               (len(rows), len(set(rows) - want)))
        numbers = [v[1] for v in rows.values()]
        expect(len(set(numbers)) == len(numbers), "machine numbers not unique")
        print("    %d requests (%d SELECT) all answered; %d changes queued in the outage; "
              "all %d selections in the database after it" % (sent, selects, queued, len(want)))
        kea.stop()

    def reload_timed(self, kea, timeout=15.0):
        """config-reload over the control socket: (seconds it took, answer)."""
        at = time.monotonic()
        answer = B.control_command(os.path.join(kea.dir, "kea4.sock"), "config-reload",
                                   timeout=timeout)
        return time.monotonic() - at, answer

    def lists_answered(self, count, timeout):
        """LISTs from count new MACs at once: how many were answered."""
        packets = [B.bsdp_inform(self.next_xid(), "02:00:00:0a:%02x:%02x" % (i >> 8, i & 255),
                                 B.bsdp_list(extra=bytes([12, 2, 0x05, 0xdc])))
                   for i in range(count)]
        return len(B.probe(self.net, packets, expect=count, timeout=timeout))

    def test_locked_table_never_holds_kea(self):
        # A DBA's session holds an ACCESS EXCLUSIVE lock on bsdp_bindings:
        # SELECTs are still answered at once, and a config-reload answers
        # within connect-timeout + 1 s, LISTs sent meanwhile answered.
        fresh_database()
        timeout = 2
        kea = self.start_db("db-lock", database=self.database(**{"connect-timeout": timeout}))
        expect(self.wait_log(kea, r"BSDP_DB_CONNECTED"), "no BSDP_DB_CONNECTED")
        self.select_raw(ID_1001, mac="02:00:00:00:0b:01")
        expect(B.wait_until(lambda: "02:00:00:00:0b:01" in db_rows(), 5.0), "not in the database")
        dba = subprocess.Popen(["psql", "-X", "-q", "-c", "BEGIN; LOCK TABLE bsdp_bindings IN"
                                " ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120)"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.helpers.append(dba)
        try:
            expect(B.wait_until(lambda: psql(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                " WHERE c.relname = 'bsdp_bindings' AND l.mode = 'AccessExclusiveLock'"
                " AND l.granted") == "1", 10.0), "the DBA's lock was never granted")
            at = time.monotonic()
            self.select_raw(ID_1002, mac="02:00:00:00:0b:02")
            select_s = time.monotonic() - at
            result = {}
            reload = threading.Thread(target=lambda: result.update(
                zip(("took", "answer"), self.reload_timed(kea))))
            at = time.monotonic()
            reload.start()
            try:
                # LISTs all along the reload (Kea itself drops what arrives
                # while it reopens its sockets): the first answered one ends
                # the time DHCP went unanswered.
                expect(self.wait_log(kea, r"BSDP_UNLOADED"), "config-reload never unloaded")
                unanswered = None
                for _ in range(100):
                    if self.lists_answered(1, 0.3):
                        unanswered = time.monotonic() - at
                        break
            finally:
                reload.join(30)
            expect("took" in result, "config-reload never answered")
            took, answer = result["took"], result["answer"]
            expect(answer.get("result") == 0, "config-reload: %r" % answer)
            expect(took <= timeout + 1 + 1.0, "config-reload took %.1f s (connect-timeout %d s)"
                   % (took, timeout))
            expect(unanswered is not None and unanswered <= timeout + 1 + 1.0,
                   "LISTs unanswered for %s s from the config-reload on" % unanswered)
            answered = self.lists_answered(64, 3.0)
            expect(answered == 64, "%d of 64 LISTs answered after the reload, table locked"
                   % answered)
        finally:
            psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                 " WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()")
            B.stop_processes([dba])
        expect(B.wait_until(lambda: "02:00:00:00:0b:02" in db_rows(), 10.0),
               "the SELECT made under the lock never reached the database")
        print("    table locked: SELECT answered in %.2f s, config-reload in %.2f s "
              "(connect-timeout %d s), LISTs answered again %.2f s after it began, 64 of 64 "
              "then" % (select_s, took, timeout, unanswered))
        kea.stop()

    def test_reload_during_outage_loses_no_selection(self):
        # 20 Macs selected, PostgreSQL stopped, 40 more selected, then a
        # config-reload: the 40 go to a spill file in Kea's data directory,
        # and once the database is back every selection is in it.
        fresh_database()
        kea = self.start_db("db-spill")
        expect(self.wait_log(kea, r"BSDP_DB_CONNECTED"), "no BSDP_DB_CONNECTED")
        before = ["02:00:00:00:0c:%02x" % i for i in range(20)]
        during = ["02:00:00:00:0d:%02x" % i for i in range(40)]
        for m in before:
            self.select_raw(ID_1001, mac=m)
        expect(B.wait_until(lambda: set(before) <= set(db_rows()), 5.0), "first 20 not written")
        server("stop")
        try:
            expect(self.wait_log(kea, r"BSDP_DB_LOST"), "no BSDP_DB_LOST")
            for m in during:
                self.select_raw(ID_1002, mac=m)
            took, answer = self.reload_timed(kea)
            expect(answer.get("result") == 0, "config-reload: %r" % answer)
            spilled = self.wait_log(kea, r"BSDP_DB_SPILLED")
            expect(spilled and " 40 change(s)" in spilled[0], "BSDP_DB_SPILLED: %s" % spilled)
            files = glob.glob(os.path.join(kea.files, "kea-bsdp-spill-*.csv"))
            expect(len(files) == 1, "spill files in the data directory: %s" % files)
            expect(self.wait_log(kea, r"BSDP_DB_UNSPILLED"), "the new instance read no spill file")
        finally:
            server("start")
        expect(B.wait_until(lambda: set(before + during) <= set(db_rows()), 15.0),
               "%d of 60 selections in the database" %
               len(set(before + during) & set(db_rows())))
        rows = db_rows()
        expect(all(rows[m][0] == ID_1002 for m in during), "the outage's selections differ")
        expect(self.wait_log(kea, r"BSDP_DB_SPILL_WRITTEN", timeout=5.0), "no BSDP_DB_SPILL_WRITTEN")
        expect(not glob.glob(os.path.join(kea.files, "kea-bsdp-spill-*.csv")),
               "the spill file was not removed")
        expect(B.wait_until(lambda: B.statistic(kea, "bsdp.bindings-db-unspilled") == 40, 3.0),
               "bsdp.bindings-db-unspilled is %r" % B.statistic(kea, "bsdp.bindings-db-unspilled"))
        print("    " + spilled[0].split("] ", 1)[-1])
        print("    config-reload during the outage took %.2f s; all 60 selections in the "
              "database after it" % took)
        kea.stop()

    def test_strict_role_with_readme_grants(self):
        # A DBA created the tables from bindings_pg.sql and granted the role
        # exactly the block of docs/bindings.md: the hook reads and writes, creates
        # nothing.
        fresh_database()
        here = os.path.dirname(os.path.dirname(HERE))
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f",
                        os.path.join(here, "store", "bindings_pg.sql")], check=True,
                       capture_output=True, timeout=30)
        with open(os.path.join(here, "docs", "bindings.md")) as f:
            manual = f.read()
        block = manual.split("<!-- bindings-database-grants -->", 2)[1]
        grants = block.split("```sql", 1)[1].split("```", 1)[0].replace("kea_bsdp", "bsdp_strict")
        psql("DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'bsdp_strict') THEN"
             " DROP OWNED BY bsdp_strict; DROP ROLE bsdp_strict; END IF; END $$;"
             " CREATE ROLE bsdp_strict LOGIN; " + grants.replace("\n", " "))
        try:
            kea = self.start_db("db-strict", database=self.database(user="bsdp_strict"))
            expect(self.wait_log(kea, r"BSDP_DB_CONNECTED"), "no BSDP_DB_CONNECTED")
            self.select_raw(ID_1002, mac="02:00:00:00:0e:01")
            expect(B.wait_until(lambda: "02:00:00:00:0e:01" in db_rows(), 5.0),
                   "the strict role wrote nothing")
            expect(not kea.lines(r"BSDP_DB_LOST|BSDP_DB_SCHEMA_CREATED"),
                   "errors: %s" % kea.lines(r"BSDP_DB_LOST|BSDP_DB_SCHEMA_CREATED"))
            print("    the manual's grants only: row written as bsdp_strict")
            kea.stop()
        finally:
            psql("DROP OWNED BY bsdp_strict; DROP ROLE bsdp_strict")

    def test_bad_database_parameters_refused(self):
        cases = [({"type": "mysql"}, "'bindings-database.type'"),
                 ({"name": ""}, "'bindings-database.name'"),
                 ({"port": 70000}, "'bindings-database.port'"),
                 ({"lfc-interval": 3600}, "'bindings-database.lfc-interval'")]
        for over, named in cases:
            kea = self.start_db("bad-db", expect_ok=False, database=self.database(**over))
            rc = kea.wait_exit(10)
            line = [l for l in kea.text().splitlines() if "BSDP_LOAD_ERROR" in l]
            expect(rc not in (None, 0) and line and named in line[0],
                   "%r: kea-dhcp4 exit %r, %s" % (over, rc, line))
            print("    " + line[0].split("] ", 1)[-1])
            kea.stop()
        kea = self.start_db("bad-both", expect_ok=False,
                            **{"state-file": os.path.join(self.work, "both.csv")})
        rc = kea.wait_exit(10)
        line = [l for l in kea.text().splitlines() if "BSDP_LOAD_ERROR" in l]
        expect(rc not in (None, 0) and line and "'state-file'" in line[0],
               "state-file with bindings-database: exit %r, %s" % (rc, line))
        print("    " + line[0].split("] ", 1)[-1])
        kea.stop()


def main():
    if not under_postgres("bindings-db"):
        return 1
    args = B.suite_arguments().parse_args()
    return B.run_suite("bindings-db", DatabaseSuite, args, ("kea-dhcp4", "ip", "psql"))


if __name__ == "__main__":
    sys.exit(main())
