"""dbpoolsim.import_config and `dbpoolsim import-config`: each library's own file or arguments
become a pool (or pooler) section with the library's names and units, every other setting is
listed, secrets are never printed, and the section validates (fixtures in data/inputs/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dbpoolsim
from dbpoolsim import import_config

DATA = Path(__file__).parent / "data" / "inputs"
SECRET = "s3cr3t-do-not-print"


def _listed(cfg):
    return {u["setting"]: u for u in cfg.unsupported}


def _no_secret(cfg):
    assert SECRET not in json.dumps(cfg.section) and SECRET not in json.dumps(cfg.unsupported)


def test_hikari_properties_in_hikariconfig_names():
    cfg = import_config.load(DATA / "hikari.properties")
    assert cfg.section == {"pool": {"kind": "hikaricp", "maximumPoolSize": 20, "minimumIdle": 5,
                                    "connectionTimeout": 30000, "idleTimeout": 600000, "maxLifetime": 1800000,
                                    "keepaliveTime": 120000}}
    listed = _listed(cfg)
    assert set(listed) == {"jdbcUrl", "username", "password", "poolName", "leakDetectionThreshold",
                           "dataSource.cachePrepStmts", "dataSource.prepStmtCacheSize"}
    assert listed["password"]["value"] == "<redacted>"
    assert "leak detection only logs" in listed["leakDetectionThreshold"]["reason"]
    _no_secret(cfg)


def test_spring_boot_properties_in_kebab_camel_and_snake_case():
    cfg = import_config.load(DATA / "application.properties")
    assert cfg.section["pool"] == {"kind": "hikaricp", "maximumPoolSize": 30, "minimumIdle": 10,
                                   "connectionTimeout": 2000, "idleTimeout": 300000, "maxLifetime": 1200000}
    listed = _listed(cfg)
    assert "spring.datasource.hikari.pool-name" in listed
    assert "a JDBC driver property" in listed["spring.datasource.hikari.data-source-properties.reWriteBatchedInserts"]["reason"]
    assert {"spring.datasource.url", "spring.datasource.password", "server.port", "spring.application.name"} <= set(listed)
    assert listed["server.port"]["reason"] == "an application setting, not a pool setting"
    _no_secret(cfg)


def test_spring_boot_application_yml_and_its_profile_documents():
    cfg = import_config.load(DATA / "application.yml")
    assert cfg.section["pool"] == {"kind": "hikaricp", "maximumPoolSize": 25, "minimumIdle": 25,
                                   "connectionTimeout": 5000, "maxLifetime": 900000, "keepaliveTime": 60000}
    listed = _listed(cfg)
    assert "autoCommit" not in cfg.section["pool"] and "spring.datasource.hikari.auto-commit" in listed
    assert "on-profile: load-test" in listed["spring.datasource.hikari.maximum-pool-size"]["reason"]
    _no_secret(cfg)


def test_hikari_names_hikariconfig_would_refuse_are_listed_with_the_right_name(tmp_path):
    p = tmp_path / "hikari.properties"
    p.write_text("maximum-pool-size=12\nmaximumPoolSize=8\nmaximumPoolSize=9\n")
    cfg = import_config.load(p)
    assert cfg.section["pool"] == {"kind": "hikaricp", "maximumPoolSize": 9}
    assert "HikariConfig's name is maximumPoolSize" in _listed(cfg)["maximum-pool-size"]["reason"]
    assert any("the last one wins" in n for n in cfg.notes)


def test_a_file_with_no_pool_setting_is_refused_not_turned_into_defaults(tmp_path):
    p = tmp_path / "application.yml"
    p.write_text("server:\n  port: 8080\nspring:\n  datasource:\n    url: jdbc:postgresql://h/db\n")
    with pytest.raises(dbpoolsim.ScenarioError, match="no HikariCP pool setting found .*; 2 other setting"):
        import_config.load(p)


def test_hikari_values_must_be_whole_milliseconds(tmp_path):
    p = tmp_path / "application.properties"
    p.write_text("spring.datasource.hikari.connection-timeout=30s\n")
    with pytest.raises(dbpoolsim.ScenarioError, match=r"spring.datasource.hikari.connection-timeout: must be an "
                                                      r"integer \(HikariCP takes whole milliseconds\), got '30s'"):
        import_config.load(p)


def test_sqlalchemy_url_and_keyword_arguments():
    cfg = import_config.load(DATA / "sqlalchemy.json")
    assert cfg.section == {"pool": {"kind": "sqlalchemy_queuepool", "pool_size": 15, "max_overflow": 5,
                                    "pool_timeout": 10, "pool_recycle": 1800, "pool_pre_ping": True,
                                    "pool_use_lifo": True}}
    listed = _listed(cfg)
    assert set(listed) == {"url password", "url ?sslmode", "url ?application_name", "echo"}
    _no_secret(cfg)
    asyncio = import_config.from_create_engine("postgresql+asyncpg://u@h/db", pool_size=3)
    assert asyncio.section["pool"] == {"kind": "sqlalchemy_asyncadaptedqueuepool", "pool_size": 3}
    with pytest.raises(dbpoolsim.ScenarioError, match="poolclass: NullPool is not modelled"):
        import_config.from_create_engine("postgresql://h/db", poolclass="sqlalchemy.pool.NullPool")


def test_psycopg_pool_and_asyncpg_keyword_arguments():
    ps = import_config.load(DATA / "psycopg_pool.json")
    assert ps.section["pool"] == {"kind": "psycopg_pool", "min_size": 4, "max_size": 16, "timeout": 5,
                                  "max_waiting": 200, "max_idle": 300, "num_workers": 3, "check": True}
    assert set(_listed(ps)) == {"conninfo", "name"}
    ap = import_config.load(DATA / "asyncpg.json")
    assert ap.section["pool"] == {"kind": "asyncpg", "min_size": 5, "max_size": 35, "max_queries": 50000,
                                  "max_inactive_connection_lifetime": 120}
    listed = _listed(ap)
    assert set(listed) == {"dsn", "timeout", "command_timeout", "statement_cache_size"}
    assert "not the acquire timeout" in listed["timeout"]["reason"]


def test_pgbouncer_ini_keeps_every_database_and_user_and_routes_to_the_chosen_one():
    cfg = import_config.load(DATA / "pgbouncer.ini", database="shop")
    assert cfg.section == {"pooler": {
        "kind": "pgbouncer", "pool_mode": "transaction", "max_client_conn": 2000, "default_pool_size": 20,
        "min_pool_size": 5, "reserve_pool_size": 3, "reserve_pool_timeout": 3, "server_idle_timeout": 300,
        "server_lifetime": 1800, "query_wait_timeout": 60, "server_check_delay": 10, "server_round_robin": True,
        "server_reset_query": "DISCARD ALL",
        "databases": {"shop": {"pool_size": 40, "reserve_pool_size": 5}, "reporting": {"pool_size": 10}},
        "users": {"reporting": {"max_user_connections": 12}},
        "clients": [{"database": "shop"}]}}
    listed = _listed(cfg)
    for key in ("[pgbouncer] listen_addr", "[databases] shop host", "[databases] reporting password",
                "[users] reporting pool_mode"):
        assert key in listed, key
    assert listed["[databases] reporting password"]["value"] == "<redacted>"
    assert "[databases] reporting pool_size" not in listed  # imported into its own entry
    # Without a database there is no route, and the note says what that means.
    plain = import_config.load(DATA / "pgbouncer.ini")
    assert "clients" not in plain.section["pooler"]
    assert plain.section["pooler"]["databases"] == cfg.section["pooler"]["databases"]
    assert any("choose its database with database=" in n for n in plain.notes)
    _no_secret(cfg)


def test_pgbouncer_ini_routed_database_gets_its_own_pool_size_in_a_run():
    """The imported route and entry work together: the shop database's pool_size=40 lets
    PgBouncer open 40 servers under a load needing about 30; unrouted, the global 20 caps it."""
    peaks = {}
    for db in ("shop", None):
        sc = import_config.load(DATA / "pgbouncer.ini", database=db).scenario("standard-case")
        sc["pool"] = {"kind": "generic", "min_connections": 0, "max_connections": 60, "acquisition_timeout": 5}
        sc["workload"]["arrivals"]["rate_per_s"] = 3000
        sc["run"] = dict(sc["run"], horizon_s=20)
        peaks[db] = dbpoolsim.run(sc).summary["pooler_peak_servers"]
    assert peaks == {"shop": 40, None: 20}


def test_pgbouncer_forced_user_and_per_database_settings(tmp_path):
    p = tmp_path / "pgbouncer.ini"
    p.write_text("[databases]\napp = host=db user=svc pool_size=8 pool_mode=session server_lifetime=600\n"
                 "other = host=db2 pool_mode=transaction max_db_connections=4\n* = host=fallback\n"
                 "[pgbouncer]\npool_mode = transaction\nmax_user_connections = 30\n")
    cfg = import_config.load(p, database="app")
    pooler = cfg.section["pooler"]
    assert pooler["clients"] == [{"database": "app", "user": "svc"}]
    assert pooler["pool_mode"] == "session" and pooler["server_lifetime"] == 600  # app's own, applied globally
    assert pooler["databases"] == {"app": {"pool_size": 8}, "other": {"max_db_connections": 4}}
    assert pooler["max_user_connections"] == 30
    listed = _listed(cfg)
    assert "per-database pool_mode is not modelled" in listed["[databases] other pool_mode"]["reason"]
    assert "fallback database" in listed["[databases] *"]["reason"]
    assert any("overrides [pgbouncer] pool_mode=transaction" in n for n in cfg.notes)


def test_pgbouncer_pool_modes(tmp_path):
    p = tmp_path / "pgbouncer.ini"
    p.write_text("[pgbouncer]\npool_mode = session\n")
    assert import_config.load(p).section["pooler"]["pool_mode"] == "session"
    p.write_text("[pgbouncer]\npool_mode = statement\n")
    with pytest.raises(dbpoolsim.ScenarioError, match="pool_mode = statement: only transaction and session"):
        import_config.load(p)
    p.write_text("[pgbouncer]\ndefault_pool_size = 10\n")  # PgBouncer's default is session pooling
    cfg = import_config.load(p)
    assert cfg.section["pooler"]["pool_mode"] == "session"
    assert any("PgBouncer's default, session pooling" in n for n in cfg.notes)


@pytest.mark.parametrize("name", ["hikari.properties", "application.properties", "application.yml",
                                  "sqlalchemy.json", "psycopg_pool.json", "asyncpg.json", "pgbouncer.ini"])
def test_every_imported_section_runs_in_a_scenario(name):
    cfg = import_config.load(DATA / name)
    scenario = cfg.scenario("standard-case")
    resolved = dbpoolsim.resolve_scenario(scenario)
    key = "pooler" if "pooler" in cfg.section else "pool"
    for k, v in cfg.section[key].items():
        if k in ("databases", "users"):  # named entries: each given setting kept, the rest defaulted
            assert {n: {s: resolved[key][k][n][s] for s in e} for n, e in v.items()} == v, k
        else:
            assert resolved[key][k] == v, k  # the values are taken as given (none reset here)


def test_values_the_core_rejects_name_the_library_setting():
    with pytest.raises(dbpoolsim.ScenarioError, match="/pool/max_size"):
        import_config.from_asyncpg(min_size=5, max_size=0)


def test_libraries_not_imported_say_so(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{}")
    with pytest.raises(dbpoolsim.ScenarioError, match="Go database/sql settings cannot be imported.*'go_database_sql'"):
        import_config.load(p, library="go")
    with pytest.raises(dbpoolsim.ScenarioError, match="node-postgres settings cannot be imported.*'node_postgres'"):
        import_config.load(p, library="node-postgres")
    p.write_text('{"min_size": 2, "max_size": 4}')
    with pytest.raises(dbpoolsim.ScenarioError, match="cannot tell which library"):
        import_config.load(p)


def test_cli_prints_the_section_and_lists_what_it_left_out(cli):
    proc = cli("import-config", DATA / "application.properties")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == import_config.load(DATA / "application.properties").section
    assert "dbpoolsim: not imported: spring.datasource.password = <redacted>: " in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr


def test_cli_errors_exit_2_with_the_setting(cli, tmp_path):
    p = tmp_path / "hikari.properties"
    p.write_text("maximumPoolSize=lots\n")
    proc = cli("import-config", p)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"dbpoolsim: error: {p}: maximumPoolSize: must be an integer, got 'lots'"
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
