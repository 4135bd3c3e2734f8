"""Structure of the Docker deployment example (docker-compose.yml, Dockerfile, docker/mysql/).

Pure file checks: nothing here needs Docker. Run with `-p no:django` if Django settings are unwanted.
"""

import configparser
import re
from pathlib import Path

import pytest
import yaml

from monitor import server_sql

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

APP_SERVICES = ("web", "worker", "beat")
MYSQL_SERVICES = ("mysql-primary", "mysql-secondary")
EXPECTED_SERVICES = {*APP_SERVICES, "redis", "appdb", *MYSQL_SERVICES}


@pytest.fixture(scope="module")
def compose() -> dict:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def _environment(service: dict) -> dict:
    env = service.get("environment", {})
    if isinstance(env, list):  # the `- KEY=value` form
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def _bind_mounts(service: dict) -> list[tuple[Path, str]]:
    """(host path, container path) of the relative bind mounts of a service (short syntax)."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            source, target = volume.get("source", ""), volume.get("target", "")
        else:
            source, target = volume.split(":")[:2]
        if source.startswith("./"):
            mounts.append((ROOT / source, target))
    return mounts


def _mounted_cnf(service: dict) -> Path:
    cnfs = [host for host, target in _bind_mounts(service) if target.startswith("/etc/mysql/conf.d/")]
    assert len(cnfs) == 1, f"expected one cnf mounted into /etc/mysql/conf.d, got {cnfs}"
    return cnfs[0]


def _mysqld_options(cnf: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(allow_no_value=True, strict=False, inline_comment_prefixes=("#",))
    parser.read_string(cnf.read_text())
    assert parser.has_section("mysqld"), f"{cnf} has no [mysqld] section"
    # mysqld treats - and _ alike in option names.
    return {key.replace("-", "_"): (value or "") for key, value in parser.items("mysqld")}


def _init_scripts(service: dict) -> list[Path]:
    return [host for host, target in _bind_mounts(service) if target.startswith("/docker-entrypoint-initdb.d")]


def test_expected_services_exist(services: dict) -> None:
    assert EXPECTED_SERVICES <= set(services), f"missing: {EXPECTED_SERVICES - set(services)}"


def test_exactly_one_beat(services: dict) -> None:
    beats = [name for name, svc in services.items() if re.search(r"\bcelery\b.*\bbeat\b", _command(svc))]
    assert beats == ["beat"]
    deploy = services["beat"].get("deploy", {})
    assert deploy.get("replicas", 1) == 1
    assert "scale" not in services["beat"] or services["beat"]["scale"] == 1


def test_app_services_share_image_and_environment(services: dict) -> None:
    builds = {name: services[name].get("build") for name in APP_SERVICES}
    images = {name: services[name].get("image") for name in APP_SERVICES}
    assert all(builds.values()), f"every app service builds the project image: {builds}"
    assert len({repr(b) for b in builds.values()}) == 1, builds
    assert len(set(images.values())) == 1, images

    envs = {name: _environment(services[name]) for name in APP_SERVICES}
    assert envs["web"] == envs["worker"] == envs["beat"]
    for key in ("SECRET_KEY", "HAPANEL_ENCRYPTION_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"):
        assert key in envs["web"], key


def test_environment_values(compose: dict, services: dict) -> None:
    assert "x-hapanel-env" in compose
    env = _environment(services["web"])
    # Secrets are required: compose refuses to start without them.
    assert re.fullmatch(r"\$\{SECRET_KEY:\?.+\}", env["SECRET_KEY"])
    assert re.fullmatch(r"\$\{HAPANEL_ENCRYPTION_KEY:\?.+\}", env["HAPANEL_ENCRYPTION_KEY"])
    assert env["DATABASE_URL"] == "postgres://hapanel:hapanel@appdb:5432/hapanel"
    assert env["REDIS_URL"] == "redis://redis:6379/0"


def test_app_commands(services: dict) -> None:
    web = _command(services["web"])
    assert "gunicorn hapanel.wsgi:application" in web
    assert "-b 0.0.0.0:8000" in web and "-w 3" in web
    # Migrations run before gunicorn, either in web's command or in a one-shot service web waits for.
    migrators = [
        name
        for name, condition in services["web"].get("depends_on", {}).items()
        if isinstance(condition, dict) and condition.get("condition") == "service_completed_successfully"
    ]
    if "manage.py migrate" in web:
        assert web.index("manage.py migrate") < web.index("gunicorn")
    else:
        assert any("manage.py migrate" in _command(services[name]) for name in migrators)

    worker = _command(services["worker"])
    assert worker.startswith("celery -A hapanel worker")
    assert "--pool threads" in worker and "--concurrency 4" in worker
    assert _command(services["beat"]).startswith("celery -A hapanel beat")


def test_every_service_has_a_healthcheck(services: dict) -> None:
    for name, service in services.items():
        healthcheck = service.get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        assert not healthcheck.get("disable", False), name
        test = healthcheck.get("test")
        assert test, f"{name}: healthcheck without a test"
        if isinstance(test, list):
            assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, f"{name}: {test}"


def test_healthcheck_commands(services: dict) -> None:
    def test_of(name: str) -> str:
        test = services[name]["healthcheck"]["test"]
        return " ".join(test) if isinstance(test, list) else test

    assert "urllib" in test_of("web") and "/healthz" in test_of("web")
    assert "celery -A hapanel inspect ping" in test_of("worker")
    assert "redis-cli ping" in test_of("redis")
    assert "pg_isready" in test_of("appdb")
    for name in MYSQL_SERVICES:
        assert "mysqladmin ping" in test_of(name)


def test_web_depends_on_healthy_appdb_and_redis(services: dict) -> None:
    depends_on = services["web"]["depends_on"]
    assert isinstance(depends_on, dict), "web needs the long depends_on form with conditions"
    for dependency in ("appdb", "redis"):
        assert depends_on[dependency]["condition"] == "service_healthy", dependency


def test_backing_service_images(services: dict) -> None:
    assert services["redis"]["image"] == "redis:7-alpine"
    assert services["appdb"]["image"] == "postgres:16-alpine"


def test_databases_use_named_volumes(compose: dict, services: dict) -> None:
    named = set(compose.get("volumes") or {})
    for name in ("appdb", *MYSQL_SERVICES):
        sources = [v.split(":")[0] if isinstance(v, str) else v["source"] for v in services[name]["volumes"]]
        assert any(source in named for source in sources), f"{name} keeps its data in no named volume"


def test_mysql_services_image_and_cnf(services: dict) -> None:
    server_ids = []
    for name in MYSQL_SERVICES:
        service = services[name]
        assert service["image"] == "mysql:8.4", name
        cnf = _mounted_cnf(service)
        assert cnf.is_file(), cnf
        options = _mysqld_options(cnf)
        assert options["gtid_mode"].upper() == "ON", name
        assert options["enforce_gtid_consistency"].upper() == "ON", name
        assert "log_bin" in options, name
        assert options["binlog_format"].upper() == "ROW", name
        assert options["replica_net_timeout"] == "3", name
        server_ids.append(int(options["server_id"]))
    assert len(set(server_ids)) == len(server_ids), f"server ids not distinct: {server_ids}"
    assert all(server_id > 0 for server_id in server_ids)


def test_mysql_passwords_from_environment_with_defaults(services: dict) -> None:
    for name in MYSQL_SERVICES:
        env = _environment(services[name])
        assert re.fullmatch(r"\$\{HAPANEL_REPL_PASSWORD:-.+\}", env["HAPANEL_REPL_PASSWORD"]), name
        assert env["MYSQL_ROOT_PASSWORD"].startswith("${MYSQL_ROOT_PASSWORD:-"), name
    primary = _environment(services["mysql-primary"])
    assert re.fullmatch(r"\$\{HAPANEL_MONITOR_PASSWORD:-.+\}", primary["HAPANEL_MONITOR_PASSWORD"])


def test_init_scripts_referenced_by_volumes_exist(services: dict) -> None:
    for name, service in services.items():
        for host, _target in _bind_mounts(service):
            assert host.exists(), f"{name} mounts {host}, which does not exist"
    for name in MYSQL_SERVICES:
        scripts = _init_scripts(services[name])
        assert scripts, f"{name} has no init script in /docker-entrypoint-initdb.d"
        for script in scripts:
            assert script.is_file(), script
            assert script.is_relative_to(ROOT / "docker" / "mysql"), script


def test_primary_init_creates_users_and_heartbeat_table(services: dict) -> None:
    sql = "\n".join(path.read_text() for path in _init_scripts(services["mysql-primary"]))
    flat = " ".join(sql.split())
    assert re.search(r"CREATE USER [^;]*'hapanel_repl'[^;]*REQUIRE SSL", flat)
    assert re.search(r"GRANT REPLICATION SLAVE ON \*\.\* TO 'hapanel_repl'", flat)
    assert re.search(r"CREATE USER [^;]*'hapanel_monitor'", flat)
    assert re.search(r"GRANT SELECT ON performance_schema\.replication_\w+ TO 'hapanel_monitor'", flat)
    # The heartbeat schema and the monitor's grants are the ones the setup assistant and the sandbox use.
    statements = [*server_sql.heartbeat_ddl("hapanel_monitor"),
                  *server_sql.monitor_grants("'hapanel_monitor'@'%'", "hapanel_monitor", mysql=True)]
    for statement in statements:
        assert " ".join(statement.split()) + ";" in flat, statement
    # Passwords come from the environment, not from the file.
    assert "${repl_pw}" in sql and "${monitor_pw}" in sql


def test_replica_init_script(services: dict) -> None:
    script = "\n".join(path.read_text() for path in _init_scripts(services["mysql-secondary"]))
    flat = " ".join(script.split())
    change = re.search(r"CHANGE REPLICATION SOURCE TO (.*?);", flat)
    assert change, "no CHANGE REPLICATION SOURCE TO ... ;"
    options = change.group(1)
    for option in (
        "SOURCE_HOST='",
        "SOURCE_USER='hapanel_repl'",
        "SOURCE_PASSWORD='",
        "SOURCE_SSL=1",
        "SOURCE_AUTO_POSITION=1",
        "SOURCE_CONNECT_RETRY=1",
        "SOURCE_HEARTBEAT_PERIOD=1",
        "GET_SOURCE_PUBLIC_KEY=1",
    ):
        assert option in options, option
    assert flat.index("CHANGE REPLICATION SOURCE TO") < flat.index("START REPLICA;")
    assert re.search(r"super_read_only\s*=\s*ON", flat, re.IGNORECASE)
    assert "mysql-primary" in flat  # waits for, and replicates from, the primary


def test_dockerfile_installs_the_project() -> None:
    assert DOCKERFILE.is_file()
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim"
    text = "\n".join(instructions)
    assert re.search(r"\bpip install (?:\S+ )*\.(?:\s|$)", text), "the Dockerfile does not `pip install .`"
    assert "collectstatic" in text
    assert re.search(r"^EXPOSE 8000$", text, re.MULTILINE)
    users = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), "the image must run as a non-root user"
