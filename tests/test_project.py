"""revox-sync.yaml, environments and variables: discovery, strict loading, precedence, every missing-thing
error, redaction, and one set of files planned and applied against two emulator accounts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import apply_all, plan_assistants, run_cli, write

from revox_sync.client import RevoxClient
from revox_sync.config.project import (
    Project,
    Settings,
    all_environments,
    find_project_file,
    load_project,
    load_var_file,
    parse_var,
    resolve,
)
from revox_sync.emulator import EmulatorServer
from revox_sync.engine.render import TextRenderer
from revox_sync.errors import ConfigErrors, FatalError
from revox_sync.kinds.assistant.load import collect_paths, load_directory

pytestmark = pytest.mark.usefixtures("in_tmp")


PROJECT = """\
config_dir: config
environments:
  staging:
    var_files: [env/common.yaml, env/staging.yaml]
    api_key_env: REVOX_API_KEY_STAGING
  production:
    var_files: [env/common.yaml, env/production.yaml]
    api_key_env: REVOX_API_KEY_PRODUCTION
    base_url: https://www.getrevox.com/api
"""


def project_tree(root: Path) -> Project:
    write(root / "revox-sync.yaml", PROJECT)
    write(root / "env/common.yaml", "GREETING: Hello\nSPEED: 1.10\n")
    write(root / "env/staging.yaml", "GREETING: Hi from staging\nWEBHOOK_TOKEN: tok-staging-123\n")
    write(root / "env/production.yaml", "WEBHOOK_TOKEN: tok-prod-456\n")
    return load_project(root / "revox-sync.yaml")


# --- discovery ----------------------------------------------------------------------------------------------
def test_find_walks_up_to_the_repository_root(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_project_file(deep) is None
    write(tmp_path / "revox-sync.yaml", "")
    assert find_project_file(deep) == tmp_path / "revox-sync.yaml"
    assert find_project_file() == tmp_path / "revox-sync.yaml"  # the working directory by default
    write(tmp_path / "a" / "revox-sync.yml", "")
    assert find_project_file(deep) == tmp_path / "a" / "revox-sync.yml"  # the nearest wins


def test_a_project_file_that_is_a_broken_link_is_an_error_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "revox-sync.yaml").symlink_to("gone/revox-sync.yaml")
    write(tmp_path / "assistants/a.yaml", "name: A\n")
    assert find_project_file() == tmp_path / "revox-sync.yaml"
    result = run_cli("validate")
    assert (result.code, result.out, result.err) == (
        1,
        "",
        "revox-sync.yaml: cannot read: No such file or directory\n1 error.\n",
    )


def test_find_stops_at_the_git_boundary(tmp_path: Path) -> None:
    write(tmp_path / "revox-sync.yaml", "")  # outside the inner repository
    inner = tmp_path / "repo" / "sub"
    inner.mkdir(parents=True)
    (tmp_path / "repo" / ".git").write_text("gitdir: elsewhere\n")  # a worktree's .git file counts
    assert find_project_file(inner) is None


# --- the project file ---------------------------------------------------------------------------------------
def test_load_project_resolves_paths_against_the_project_file(tmp_path: Path) -> None:
    project = project_tree(tmp_path)
    assert project.config_dir == tmp_path / "config"
    assert list(project.environments) == ["staging", "production"]
    staging = project.environments["staging"]
    assert staging.var_files == (tmp_path / "env/common.yaml", tmp_path / "env/staging.yaml")
    assert staging.api_key_env == "REVOX_API_KEY_STAGING"
    assert staging.base_url is None
    assert project.environments["production"].base_url == "https://www.getrevox.com/api"
    assert all_environments(project) == ["staging", "production"]


def test_empty_project_file_is_all_defaults(tmp_path: Path) -> None:
    project = load_project(write(tmp_path / "revox-sync.yaml", "# nothing yet\n"))
    assert project.config_dir is None and project.environments == {}
    with pytest.raises(FatalError, match="declares no environments"):
        all_environments(project)
    with pytest.raises(FatalError, match="--all-envs needs a project file"):
        all_environments(None)


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        load_project(path)
    return [str(e) for e in info.value.errors]


def test_project_file_is_strict_with_positions(tmp_path: Path) -> None:
    path = write(
        tmp_path / "revox-sync.yaml",
        "config_dirs: x\n"
        "environments:\n"
        "  staging:\n"
        "    var_file: [a.yaml]\n"
        "    api_key_env: 12\n"
        "  'bad name':\n"
        "    api_key_env: X\n"
        "  prod:\n"
        "    api_key_env: not-a-var\n"
        "    base_url: [x]\n",
    )
    assert errors_of(path) == [
        "revox-sync.yaml:1:1: unknown key 'config_dirs' in project file; did you mean 'config_dir'?",
        "revox-sync.yaml:4:5: unknown key 'var_file' in environment 'staging'; did you mean 'var_files'?",
        "revox-sync.yaml:5:18: environments.staging.api_key_env must be a string, not '12' (int)",
        "revox-sync.yaml:6:3: invalid environment name 'bad name' (letters, digits, _ . -)",
        "revox-sync.yaml:9:18: api_key_env must be REVOX_API_KEY or a name starting REVOX_API_KEY_, not "
        "'not-a-var' (no other variable is ever sent as the key)",
        "revox-sync.yaml:10:15: environments.prod.base_url must be a string, not a list",
    ]


def test_project_file_shape_errors(tmp_path: Path) -> None:
    assert errors_of(write(tmp_path / "revox-sync.yaml", "- a\n")) == [
        "revox-sync.yaml:1:1: the top level must be a mapping (config_dir, environments)"
    ]
    assert errors_of(write(tmp_path / "revox-sync.yaml", "environments: [a]\n")) == [
        "revox-sync.yaml:1:15: environments must be a mapping of environment names"
    ]
    assert errors_of(write(tmp_path / "revox-sync.yaml", "environments:\n  a: 1\n  a: 2\n")) == [
        "revox-sync.yaml:2:6: environment 'a' must be a mapping (var_files, api_key_env, base_url, owns, protect, "
        "rules)",
        "revox-sync.yaml:3:3: duplicate key 'a' (first at line 2)",
    ]
    (message,) = errors_of(write(tmp_path / "revox-sync.yaml", "config_dir: [\n"))
    assert message.startswith("revox-sync.yaml:2:1: did not find expected node content")


# --- variable files and --var ------------------------------------------------------------------------------
def test_var_file_keeps_scalars_as_written(tmp_path: Path) -> None:
    path = write(tmp_path / "v.yaml", "A: text\nB: 1.10\nC: 0x1F\nD: true\nE: ''\nF: '+15551234567'\n")
    assert load_var_file(path) == {
        "A": "text",
        "B": "1.10",
        "C": "0x1F",
        "D": "true",
        "E": "",
        "F": "+15551234567",
    }
    assert load_var_file(write(tmp_path / "empty.yaml", "")) == {}


def test_var_file_errors(tmp_path: Path) -> None:
    path = write(tmp_path / "v.yaml", "A:\nB: [1]\nC: {x: 1}\n1bad: x\nD: !file x\nA: again\n")
    with pytest.raises(ConfigErrors) as info:
        load_var_file(path)
    assert [str(e) for e in info.value.errors] == [
        "v.yaml:1:1: A: a variable must be a string, number or boolean, not null (write '' for an empty string)",
        "v.yaml:2:4: B: a variable must be a string, number or boolean, not a list",
        "v.yaml:3:4: C: a variable must be a string, number or boolean, not a mapping",
        "v.yaml:4:1: '1bad' is not a variable name (letters, digits and _)",
        "v.yaml:5:4: D: unsupported tag '!file' in a variable file",
        "v.yaml:6:1: duplicate key 'A' (first at line 1)",
    ]
    with pytest.raises(ConfigErrors, match="a variable file must be a mapping"):
        load_var_file(write(tmp_path / "list.yaml", "- A\n"))
    with pytest.raises(FatalError, match=r"variable file nope.yaml: no such file"):
        load_var_file(tmp_path / "nope.yaml", shown="nope.yaml")


def test_parse_var() -> None:
    assert parse_var("A=1") == ("A", "1")
    assert parse_var("A=") == ("A", "")
    assert parse_var("URL=https://x/?a=b") == ("URL", "https://x/?a=b")
    with pytest.raises(FatalError, match=r"--var A: expected NAME=VALUE"):
        parse_var("A")
    with pytest.raises(FatalError, match=r"--var 9A=1: '9A' is not a variable name"):
        parse_var("9A=1")


def test_a_malformed_sensitive_var_never_echoes_its_value() -> None:
    with pytest.raises(FatalError) as info:
        parse_var("MY API_KEY=hunter2")  # space: not a name, and the value must not be echoed
    assert "hunter2" not in str(info.value)
    assert "(sensitive)" in str(info.value)


# --- precedence -------------------------------------------------------------------------------------------
def test_precedence_var_over_var_file_over_environment_files_over_process_env(tmp_path: Path) -> None:
    project = project_tree(tmp_path)
    cli1 = write(tmp_path / "cli1.yaml", "GREETING: from cli1\nONLY1: one\nSHARED: cli1\n")
    cli2 = write(tmp_path / "cli2.yaml", "SHARED: cli2\n")
    environ = {"GREETING": "from process", "SPEED": "9", "HOME_ONLY": "h", "WEBHOOK_TOKEN": "proc"}

    s = resolve(project, "staging", [], [], environ)
    assert s.variables["GREETING"] == "Hi from staging"  # later environment file over earlier one
    assert s.variables["SPEED"] == "1.10"  # environment file over the process environment
    assert s.variables["HOME_ONLY"] == "h"  # the process environment is the fallback
    assert s.variables["WEBHOOK_TOKEN"] == "tok-staging-123"

    s = resolve(project, "staging", [cli1, cli2], [], environ)
    assert s.variables["GREETING"] == "from cli1"  # --var-file over the environment's files
    assert s.variables["SHARED"] == "cli2"  # later --var-file wins
    assert s.variables["ONLY1"] == "one"

    s = resolve(project, "staging", [cli1, cli2], ["GREETING=from --var", "SHARED=a", "SHARED=b"], environ)
    assert s.variables["GREETING"] == "from --var"  # --var over everything
    assert s.variables["SHARED"] == "b"  # later --var wins
    assert s.sources == ("--var", "cli2.yaml", "cli1.yaml", "env/staging.yaml", "env/common.yaml",
                         "the process environment")  # fmt: skip

    s = resolve(project, "production", [], [], environ)
    assert s.variables["GREETING"] == "Hello"
    assert s.variables["WEBHOOK_TOKEN"] == "tok-prod-456"


def test_vars_work_without_a_project_file(tmp_path: Path) -> None:
    vf = write(tmp_path / "vars.yaml", "A: file\nB: file\n")
    s = resolve(None, None, [vf], ["B=flag"], {"A": "process", "C": "process"})
    assert (s.variables["A"], s.variables["B"], s.variables["C"]) == ("file", "flag", "process")
    assert s.config_dir is None and s.env_name is None and s.api_key is None and s.base_url is None
    plain = resolve(None, None, [], [], {"A": "x"})
    assert plain.variables == {"A": "x"} and plain.sources == ()


def test_settings_from_the_environment(tmp_path: Path) -> None:
    project = project_tree(tmp_path)
    s = resolve(project, "production", [], [], {"REVOX_API_KEY_PRODUCTION": "key-prod"})
    assert s.api_key == "key-prod"
    assert s.require_api_key() == "key-prod"
    assert s.base_url == "https://www.getrevox.com/api"
    assert s.config_dir == tmp_path / "config"
    assert s.env_name == "production"


# --- every missing thing is an error that names it -----------------------------------------------------------
def test_env_without_project_file() -> None:
    with pytest.raises(FatalError, match=r"--env staging: no project file \(revox-sync.yaml\)"):
        resolve(None, "staging", [], [], {})


def test_unknown_environment_suggests_and_lists(tmp_path: Path) -> None:
    project = project_tree(tmp_path)
    with pytest.raises(FatalError) as info:
        resolve(project, "stagign", [], [], {})
    assert str(info.value) == (
        f"--env stagign: unknown environment; did you mean 'staging'? "
        f"({tmp_path / 'revox-sync.yaml'} declares: staging, production)"
    )


def test_missing_environment_var_file_names_file_and_declaration(tmp_path: Path) -> None:
    project = project_tree(tmp_path)
    (tmp_path / "env/production.yaml").unlink()
    with pytest.raises(FatalError) as info:
        resolve(project, "production", [], [], {})
    assert str(info.value) == (
        "variable file env/production.yaml: no such file "
        "(listed by environment 'production' at revox-sync.yaml:6:3)"
    )


def test_missing_cli_var_file(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match=r"^--var-file missing.yaml: no such file$"):
        resolve(None, None, [Path("missing.yaml")], [], {})


def test_missing_api_key_names_the_variable(tmp_path: Path) -> None:
    project = project_tree(tmp_path)
    s = resolve(project, "staging", [], [], {"REVOX_API_KEY": "the-default-key"})
    assert s.api_key is None  # REVOX_API_KEY is not the staging key
    with pytest.raises(FatalError) as info:
        s.require_api_key()
    assert "set the environment variable REVOX_API_KEY_STAGING" in str(info.value)
    assert "environment 'staging'" in str(info.value)
    with pytest.raises(FatalError, match="set REVOX_API_KEY or pass --api-key"):
        resolve(None, None, [], [], {}).require_api_key()


def test_variable_no_file_defines_names_variable_file_line_and_sources(tmp_path: Path) -> None:
    project = project_tree(tmp_path)
    write(
        tmp_path / "config/a.yaml",
        "name: A\nprompt: ${GREETING} ${MISSING_ONE}\nfirst_sentence: ${MISSING_TWO}\n",
    )
    s = resolve(project, "staging", [], ["X=1"], {})
    with pytest.raises(ConfigErrors) as info, s.explaining():
        load_directory(tmp_path / "config", variables=s.variables)
    messages = [str(e) for e in info.value.errors]
    assert messages == [
        "config/a.yaml:2:9: variable MISSING_ONE is not defined for environment 'staging': not in --var, "
        "env/staging.yaml, env/common.yaml or the process environment (define it there, or write "
        "${MISSING_ONE:-default})",
        "config/a.yaml:3:17: variable MISSING_TWO is not defined for environment 'staging': not in --var, "
        "env/staging.yaml, env/common.yaml or the process environment (define it there, or write "
        "${MISSING_TWO:-default})",
    ]
    # validate's non-raising path: the same rewording
    result = collect_paths([tmp_path / "config"], variables=s.variables)
    assert [e.message for e in s.explain(result.errors)] == [m.split(": ", 1)[1] for m in messages]
    # without a project or flags the loader's own message stands
    plain = resolve(None, None, [], [], {})
    assert plain.explain(result.errors) == result.errors


# --- sensitive values ---------------------------------------------------------------------------------------
def test_sensitive_names_and_no_value_in_repr(tmp_path: Path) -> None:
    project = project_tree(tmp_path)
    s = resolve(project, "staging", [], ["DB_PASSWORD=pw-789"], {"REVOX_API_KEY_STAGING": "key-abc"})
    assert {"WEBHOOK_TOKEN", "DB_PASSWORD", "REVOX_API_KEY_STAGING"} <= s.sensitive_names
    assert "GREETING" not in s.sensitive_names
    text = repr(s)
    for secret in ("tok-staging-123", "pw-789", "key-abc"):
        assert secret not in text


def test_sensitive_variable_from_a_var_file_is_redacted_in_the_plan(tmp_path: Path) -> None:
    project = project_tree(tmp_path)
    write(
        tmp_path / "config/a.yaml",
        "name: A\nprompt: hi\ncustom_tools: []\nwebhook_url: https://hooks.example.com/${WEBHOOK_TOKEN}\n",
    )
    s = resolve(project, "staging", [], [], {})
    loaded, _ = load_directory(tmp_path / "config", variables=s.variables)
    plan = plan_assistants([desired_of(a) for a in loaded], [])
    text = TextRenderer().render(plan) + json.dumps(plan.to_dict())
    assert "tok-staging-123" not in text
    assert "(sensitive)" in text


def desired_of(loaded):  # type: ignore[no-untyped-def]
    from revox_sync.kinds.assistant.kind import to_desired

    return to_desired(loaded)


# --- one set of files, two accounts ---------------------------------------------------------------------------
ASSISTANT = """\
name: Support
prompt: "${GREETING}, this is ${COMPANY} support."
first_sentence: ${GREETING}!
webhook_url: https://hooks.example.com/${WEBHOOK_TOKEN}
voice:
  provider: cartesia
  id: 5ee9feff-1265-424a-9d7f-8e4d431a12c7
  speed: ${SPEED}
"""


def two_account_project(root: Path, staging: EmulatorServer, production: EmulatorServer) -> Project:
    write(
        root / "revox-sync.yaml",
        "config_dir: assistants\n"
        "environments:\n"
        f"  staging: {{var_files: [env/staging.yaml], api_key_env: REVOX_API_KEY_STG, base_url: '{staging.url}'}}\n"
        f"  production: {{var_files: [env/production.yaml], api_key_env: REVOX_API_KEY_PRD, base_url: '{production.url}'}}\n",
    )
    write(
        root / "env/staging.yaml",
        "GREETING: Hi\nCOMPANY: Acme Staging\nSPEED: 1.2\nWEBHOOK_TOKEN: stg-secret\n",
    )
    write(
        root / "env/production.yaml",
        "GREETING: Hello\nCOMPANY: Acme\nSPEED: 0.9\nWEBHOOK_TOKEN: prd-secret\n",
    )
    write(root / "assistants/support.yaml", ASSISTANT)
    found = find_project_file()
    assert found is not None
    return load_project(found)


def plan_for(settings: Settings):  # type: ignore[no-untyped-def]
    assert settings.config_dir is not None and settings.base_url is not None
    with settings.explaining():
        loaded, _ = load_directory(settings.config_dir, variables=settings.variables)
    client = RevoxClient(settings.require_api_key(), settings.base_url, timeout=5.0)
    return plan_assistants([desired_of(a) for a in loaded], client.list_assistants()), client


def test_one_config_two_accounts_each_gets_its_own_values(tmp_path: Path) -> None:
    with EmulatorServer(api_key="stg-key") as stg, EmulatorServer(api_key="prd-key") as prd:
        project = two_account_project(tmp_path, stg, prd)
        environ = {"REVOX_API_KEY_STG": "stg-key", "REVOX_API_KEY_PRD": "prd-key"}
        for env_name, company, speed in (
            ("staging", "Acme Staging", 1.2),
            ("production", "Acme", 0.9),
        ):
            settings = resolve(project, env_name, [], [], environ)
            plan, client = plan_for(settings)
            with client:
                assert [a.op for a in plan.actions] == ["create"]
                body = plan.actions[0].body
                assert body["prompt"].endswith(f", this is {company} support.")
                assert body["voice"]["speed"] == speed
                shown = TextRenderer().render(plan) + json.dumps(plan.to_dict())
                assert "stg-secret" not in shown and "prd-secret" not in shown
                results = apply_all(plan, client)
                assert all(r.ok for r in results), results
        # each account received only its own requests, with its own key and values
        (a_stg,) = stg.state.list_assistants()
        (a_prd,) = prd.state.list_assistants()
        assert a_stg["prompt"] == "Hi, this is Acme Staging support."
        assert a_prd["prompt"] == "Hello, this is Acme support."
        assert a_stg["webhook_url"].endswith("/stg-secret") and a_prd["webhook_url"].endswith("/prd-secret")
        # each emulator demands its own key (401 otherwise), so each got only its own environment's requests
        for server in (stg, prd):
            assert [(r.method, r.path) for r in server.requests] == [
                ("GET", "/assistants"),
                ("POST", "/assistants"),
            ]
        # and both converge
        for env_name in ("staging", "production"):
            plan, client = plan_for(resolve(project, env_name, [], [], environ))
            with client:
                assert not plan.has_changes


def test_the_wrong_key_for_an_account_is_refused(tmp_path: Path) -> None:
    with EmulatorServer(api_key="stg-key") as stg, EmulatorServer(api_key="prd-key") as prd:
        project = two_account_project(tmp_path, stg, prd)
        settings = resolve(project, "production", [], [], {"REVOX_API_KEY_PRD": "stg-key"})
        with pytest.raises(FatalError):
            plan_for(settings)
        assert not prd.state.list_assistants()


def test_validate_every_environment(tmp_path: Path) -> None:
    """`validate --all-envs`: every environment resolves the same files with its own variables."""
    project = project_tree(tmp_path)
    write(
        tmp_path / "config/a.yaml", "name: A\nprompt: ${GREETING}\nwebhook_url: https://x/${WEBHOOK_TOKEN}\n"
    )
    write(tmp_path / "env/production.yaml", "OTHER: x\n")  # production lacks WEBHOOK_TOKEN
    outcome = {}
    for name in all_environments(project):
        s = resolve(project, name, [], [], {})
        result = collect_paths([s.config_dir or Path("assistants")], variables=s.variables)
        outcome[name] = [e.message for e in s.explain(result.errors)]
    assert outcome["staging"] == []
    assert outcome["production"] == [
        "variable WEBHOOK_TOKEN is not defined for environment 'production': not in env/production.yaml, "
        "env/common.yaml or the process environment (define it there, or write ${WEBHOOK_TOKEN:-default})"
    ]


# --- through the CLI ----------------------------------------------------
def run(*args: str, environ: dict[str, str]):  # type: ignore[no-untyped-def]
    from helpers import run_cli

    return run_cli(*args, environ=environ)


def test_cli_env_plan_and_apply_per_account(tmp_path: Path) -> None:
    with EmulatorServer(api_key="stg-key") as stg, EmulatorServer(api_key="prd-key") as prd:
        two_account_project(tmp_path, stg, prd)
        environ = {
            "REVOX_API_KEY_STG": "stg-key",
            "REVOX_API_KEY_PRD": "prd-key",
            "REVOX_API_KEY": "not-for-environments",
        }
        r = run("--env", "staging", "plan", environ=environ)
        assert r.code == 0, r.all
        assert '+ assistant "Support" will be created' in r.out
        assert "Acme Staging" in r.out and "stg-secret" not in r.all
        r = run("--env", "production", "apply", "--auto-approve", environ=environ)
        assert r.code == 0, r.all
        assert "prd-secret" not in r.all
        assert [a["prompt"] for a in prd.state.list_assistants()] == ["Hello, this is Acme support."]
        assert stg.state.list_assistants() == []
        r = run("--env", "production", "plan", "--detailed-exitcode", environ=environ)
        assert r.code == 0, r.all
        # --var beats the environment's file, on the command line too
        r = run(
            "--env",
            "production",
            "--var",
            "COMPANY=Acme Corp",
            "plan",
            "--detailed-exitcode",
            environ=environ,
        )
        assert r.code == 2 and "Acme Corp" in r.out


def test_cli_env_errors(tmp_path: Path) -> None:
    with EmulatorServer(api_key="stg-key") as stg, EmulatorServer(api_key="prd-key") as prd:
        two_account_project(tmp_path, stg, prd)
        r = run("--env", "prod", "plan", environ={})
        assert r.code == 1 and "--env prod: unknown environment; did you mean 'production'?" in r.err
        r = run("--env", "production", "plan", environ={"REVOX_API_KEY": "prd-key"})
        assert r.code == 1 and "set the environment variable REVOX_API_KEY_PRD" in r.err
        assert prd.requests == []
        r = run("--var-file", "nope.yaml", "validate", environ={})
        assert r.code == 1 and "--var-file nope.yaml: no such file" in r.err
        r = run("--var", "oops", "validate", environ={})
        assert r.code == 1 and "--var oops: expected NAME=VALUE" in r.err
        assert "Traceback" not in r.all


def test_cli_validate_env_and_all_envs(tmp_path: Path) -> None:
    with EmulatorServer() as stg, EmulatorServer() as prd:
        two_account_project(tmp_path, stg, prd)
        r = run("validate", "--all-envs", environ={})
        assert r.code == 0, r.all
        assert r.out.splitlines() == [
            "staging: 1 assistant file valid.",
            "production: 1 assistant file valid.",
        ]
        write(
            tmp_path / "env/production.yaml", "GREETING: Hello\nCOMPANY: Acme\nSPEED: 0.9\n"
        )  # no WEBHOOK_TOKEN: a secret, which an offline check does without (issue 22, point 4)
        r = run("validate", "--all-envs", environ={})
        assert r.code == 0, r.all
        assert r.err == (
            "note: a plan will need WEBHOOK_TOKEN (not set here: the files were checked without its value)\n"
        )
        write(tmp_path / "env/production.yaml", "GREETING: Hello\nSPEED: 0.9\nWEBHOOK_TOKEN: prd-secret\n")
        r = run("validate", "--all-envs", environ={})
        assert r.code == 1
        assert (
            "assistants/support.yaml:2:9: [production] variable COMPANY is not defined for environment "
            "'production': not in env/production.yaml or the process environment" in r.err
        )
        assert run("validate", "--env", "staging", environ={}).code == 0
        assert run("validate", "--env", "production", environ={}).code == 1
        assert run("--var", "COMPANY=x", "validate", "--env", "production", environ={}).code == 0
