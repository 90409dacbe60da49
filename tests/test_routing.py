"""phone_numbers.yaml: strict loading, pure planning of routing changes, and apply against the emulator in
the right order (assistants first, then only the changed fields of each number)."""

# ruff: noqa: F811  (pytest fixtures imported from emulator_fixtures are redefined as test arguments)

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from emulator_fixtures import API_KEY, client, emulator, sdk_contract  # noqa: F401
from helpers import write

from revox_sync.client import RevoxClient
from revox_sync.commands.plan import compute_plan
from revox_sync.commands.session import Session
from revox_sync.emulator import EmulatorServer
from revox_sync.engine.apply import Result
from revox_sync.engine.change import Action, Desired
from revox_sync.engine.kind import LoadContext, Loaded, Refs
from revox_sync.engine.plan import Plan
from revox_sync.engine.render import MarkdownRenderer, TextRenderer
from revox_sync.errors import ConfigErrors, FatalError, Location
from revox_sync.kinds.assistant.load import load_directory
from revox_sync.kinds.phone_number import KIND, Route
from revox_sync.output import Environment

pytestmark = pytest.mark.usefixtures("in_tmp")


def load_routes(config_dir: Path) -> Loaded | None:
    return KIND.load(LoadContext(config_dir))


def routes_of(loaded: Loaded | None) -> tuple[Route, ...]:
    return tuple(d.source for d in loaded.desired) if loaded is not None else ()


def load_errors(text: str) -> list[str]:
    write("cfg/phone_numbers.yaml", text)
    with pytest.raises(ConfigErrors) as info:
        load_routes(Path("cfg"))
    return [str(e) for e in info.value.errors]


# --- the file -----------------------------------------------------------------------------------------------
def test_load_routes_mapping_keyed_by_number() -> None:
    write(
        "cfg/phone_numbers.yaml",
        "phone_numbers:\n"
        "  +15551234567:\n"  # unquoted: YAML would read an integer; the text is kept
        "    assistant: Support\n"
        "    label: Main line\n"
        '  "+15557654321": {assistant_id: asst_1}\n'
        "  '+15550001111': {assistant: null}\n"
        "  '+15550002222': {label: null}\n",
    )
    routes = load_routes(Path("cfg"))
    assert routes is not None and routes.path == Path("cfg/phone_numbers.yaml")
    r1, r2, r3, r4 = routes_of(routes)
    assert (r1.number, r1.assistant, r1.manages_assistant, r1.label, r1.manages_label) == (
        "+15551234567",
        "Support",
        True,
        "Main line",
        True,
    )
    assert r1.location == Location("cfg/phone_numbers.yaml", 2, 3)
    assert r1.assistant_location == Location("cfg/phone_numbers.yaml", 3, 16)
    assert (r2.assistant_id, r2.manages_assistant, r2.manages_label) == ("asst_1", True, False)
    assert (r3.assistant, r3.assistant_id, r3.manages_assistant, r3.manages_label) == (
        None,
        None,
        True,
        False,
    )
    assert (r4.manages_assistant, r4.manages_label, r4.label) == (False, True, None)


def test_no_file_or_empty_file_manages_nothing() -> None:
    Path("cfg").mkdir()
    assert load_routes(Path("cfg")) is None  # no file: numbers are unmanaged
    write("cfg/phone_numbers.yml", "# later\n")
    assert routes_of(load_routes(Path("cfg"))) == ()
    write("cfg/phone_numbers.yml", "phone_numbers:\n")
    assert routes_of(load_routes(Path("cfg"))) == ()
    write("cfg/phone_numbers.yaml", "phone_numbers: {}\n")
    with pytest.raises(FatalError, match=r"both phone_numbers\.yaml and phone_numbers\.yml exist"):
        load_routes(Path("cfg"))


def test_routes_file_errors_with_positions() -> None:
    assert load_errors(
        "phone_number: {}\n"
        "phone_numbers:\n"
        "  '5551234567': {assistant: A}\n"
        "  '+15551234567': {asistant: A}\n"
        "  '+15551234568': {assistant: A, assistant_id: asst_1}\n"
        "  '+15551234569':\n"
        "  '+15551234570': {assistant_id: null}\n"
        "  '+15551234571': {label: ''}\n"
        "  '+15551234572': {assistant: 12}\n"
        "  '+15551234572': {label: x}\n"
    ) == [
        "cfg/phone_numbers.yaml:1:1: unknown key 'phone_number' in phone_numbers.yaml; did you mean 'phone_numbers'?",
        "cfg/phone_numbers.yaml:3:3: '5551234567' is not an E.164 number ('+', country code, up to 15 digits)",
        "cfg/phone_numbers.yaml:4:20: unknown key 'asistant' in phone number +15551234567; did you mean 'assistant'?",
        "cfg/phone_numbers.yaml:5:3: +15551234568: give assistant or assistant_id, not both",
        "cfg/phone_numbers.yaml:6:3: +15551234569: declare what to manage: assistant (or assistant_id) and/or label",
        "cfg/phone_numbers.yaml:7:34: +15551234570: assistant_id must be a string, not null",
        "cfg/phone_numbers.yaml:8:27: +15551234571: label must not be empty (use null to clear)",
        "cfg/phone_numbers.yaml:9:31: +15551234572: assistant must be a string, not '12' (int)",
        "cfg/phone_numbers.yaml:10:3: duplicate key '+15551234572' (first at line 9)",
    ]
    assert load_errors("- a\n") == [
        "cfg/phone_numbers.yaml:1:1: the top level must be a mapping with the key 'phone_numbers'"
    ]
    assert load_errors("phone_numbers: [a]\n") == [
        'cfg/phone_numbers.yaml:1:16: phone_numbers must be a mapping of numbers, e.g. "+15551234567":'
    ]


def test_routes_file_is_not_an_assistant_file(emulator: EmulatorServer) -> None:
    write("cfg/a.yaml", "name: A\nprompt: hi\n")
    write("cfg/phone_numbers.yaml", "phone_numbers: {'+15551234567': {assistant: A}}\n")
    loaded, _ = load_directory(Path("cfg"))
    assert [a.name for a in loaded] == ["A"]


# --- planning (pure) ------------------------------------------------------------------------------------------
LOC = Location("phone_numbers.yaml", 2, 3)


def route(number: str = "+15551234567", **kw: Any) -> Route:
    kw.setdefault("manages_assistant", "assistant" in kw or "assistant_id" in kw)
    kw.setdefault("manages_label", "label" in kw)
    return Route(number, LOC, **kw)


def number(
    id: str, phone: str, assistant: dict[str, Any] | None = None, label: str | None = None
) -> dict[str, Any]:
    return {"id": id, "phone_number": phone, "label": label, "inbound_assistant": assistant}


OLD = {"id": "asst_old", "name": "Old"}


def refs() -> Refs:
    """What the assistants of one plan resolve to: two existing, one created, one ambiguous, one destroyed."""
    return Refs(
        ids={("assistant", "Old"): "asst_old", ("assistant", "Support"): "asst_sup"},
        names={
            ("assistant", i): n
            for i, n in {"asst_old": "Old", "asst_sup": "Support", "asst_x": "Twin", "asst_y": "Twin"}.items()
        },
        created={("assistant", "Brand new"): "Brand new"},
        ambiguous={("assistant", "Twin"): ("asst_x", "asst_y")},
        destroyed={("assistant", "asst_gone")},
    )


def plan_routes(routes: list[Route], remote: list[dict[str, Any]], resolved: Refs) -> list[Action]:
    """The phone-number kind's own planning of `routes` against `remote` numbers."""
    loaded = Loaded([Desired("phone_number", r.number, r.to_dict(), source=r) for r in routes])
    return KIND.plan(loaded, remote, resolved, prune=False, key=b"").actions


def text_lines(actions: list[Action]) -> list[str]:
    return TextRenderer().render(Plan(tuple(actions), {}, "")).splitlines()[:-2]


def test_route_change_shows_names_and_sends_only_changed_fields() -> None:
    remote = [number("pn_1", "+15551234567", OLD, "Main"), number("pn_2", "+15557654321", None, "Sales")]
    changes = plan_routes(
        [route(assistant="Support", label="Main"), route("+15557654321", label="Sales desk")], remote, refs()
    )
    assert [(a.kind, a.op, a.name, a.id, a.body) for a in changes] == [
        ("phone_number", "update", "+15551234567", "pn_1", {"inbound_assistant_id": "asst_sup"}),
        ("phone_number", "update", "+15557654321", "pn_2", {"label": "Sales desk"}),
    ]
    assert text_lines(changes) == [
        '  ~ phone_number "+15551234567": inbound_assistant "Old" -> "Support"',
        '  ~ phone_number "+15557654321": label "Sales" -> "Sales desk"',
    ]
    md = MarkdownRenderer().render(Plan(tuple(changes), {}, "")).splitlines()
    assert "| ~ | phone_number | `+15551234567` | `pn_1` | update | `inbound_assistant_id` |" in md
    assert "| ~ | phone_number | `+15557654321` | `pn_2` | update | `label` |" in md
    assert Plan(tuple(changes), {}, "").to_dict()["actions"][0] == {
        "kind": "phone_number",
        "action": "update",
        "name": "+15551234567",
        "id": "pn_1",
        "file": None,
        "changes": [{"path": "inbound_assistant", "before": "Old", "after": "Support"}],
        "notes": [],
    }


def test_no_change_no_route_and_unlisted_fields_unmanaged() -> None:
    remote = [number("pn_1", "+15551234567", OLD, "Dashboard label"), number("pn_2", "+15550000000", OLD)]
    assert plan_routes([route(assistant="Old")], remote, refs()) == []  # label absent: unmanaged
    assert plan_routes([route(assistant_id="asst_old")], remote, refs()) == []
    assert plan_routes([], remote, refs()) == []  # numbers not listed are unmanaged


def test_clearing_the_assistant_and_the_label() -> None:
    remote = [number("pn_1", "+15551234567", OLD, "Main")]
    (change,) = plan_routes([route(assistant=None, label=None)], remote, refs())
    assert change.body == {"inbound_assistant_id": None, "label": None}
    assert text_lines([change]) == [
        '  ~ phone_number "+15551234567": inbound_assistant "Old" -> null',
        '  ~ phone_number "+15551234567": label "Main" -> null',
    ]


def test_route_to_an_assistant_this_plan_creates_waits_for_its_id() -> None:
    from revox_sync.engine.change import Pending

    remote = [number("pn_1", "+15551234567", OLD)]
    (change,) = plan_routes([route(assistant="Brand new")], remote, refs())
    assert change.body == {"inbound_assistant_id": Pending("assistant", "Brand new")}
    assert [(c.path, c.before, c.after) for c in change.changes] == [
        ("inbound_assistant", "Old", "Brand new")
    ]
    assert text_lines([change]) == [
        '  ~ phone_number "+15551234567": inbound_assistant "Old" -> "Brand new" (created by this plan)'
    ]


def test_every_routing_error_is_reported_together_at_its_place() -> None:
    remote = [number("pn_1", "+15551234567"), number("pn_2", "+15550000002")]
    bad = [
        route("+15559999999", assistant="Support", assistant_location=Location("p.yaml", 1, 1)),
        route(assistant="Suport", assistant_location=Location("p.yaml", 2, 1)),
        route("+15550000002", assistant="Twin", assistant_location=Location("p.yaml", 3, 1)),
        route(assistant_id="asst_nope", assistant_location=Location("p.yaml", 4, 1)),
    ]
    with pytest.raises(ConfigErrors) as info:
        plan_routes(bad, remote, refs())
    assert [str(e) for e in info.value.errors] == [
        "p.yaml:2:1: +15551234567: no assistant named 'Suport' in the files or the account; did you mean 'Support'?",
        "p.yaml:3:1: +15550000002: 2 assistants are named 'Twin' (asst_x, asst_y): use assistant_id",
        "p.yaml:4:1: +15551234567: no assistant with id 'asst_nope' in this account",
        # an unowned number points at the number itself
        "phone_numbers.yaml:2:3: +15559999999 is not a number this account owns (owned: +15550000002, "
        "+15551234567); see GET /phone-numbers",
    ]


def test_route_to_an_assistant_this_plan_destroys_is_an_error() -> None:
    gone = Refs(
        ids={("assistant", "Gone"): "asst_gone"},
        names={("assistant", "asst_gone"): "Gone"},
        destroyed={("assistant", "asst_gone")},
    )
    remote = [number("pn_1", "+15551234567")]
    for r in (route(assistant="Gone"), route(assistant_id="asst_gone")):
        with pytest.raises(
            ConfigErrors, match=r"routes to assistant 'Gone', which this plan destroys \(--prune\)"
        ):
            plan_routes([r], remote, gone)


def test_fingerprint_follows_managed_numbers_only() -> None:
    def fingerprints(remote: list[dict[str, Any]]) -> dict[str, str]:
        loaded = Loaded([Desired("phone_number", "+15551234567", {}, source=route(assistant="Old"))])
        return KIND.plan(loaded, remote, refs(), prune=False, key=b"").fingerprints

    remote = [number("pn_1", "+15551234567", OLD), number("pn_2", "+15550000000")]
    base = fingerprints(remote)
    assert list(base) == ["pn_1"]  # an unmanaged number is not part of what a saved plan depends on
    assert fingerprints([remote[0], number("pn_2", "+15550000000", OLD)]) == base
    assert fingerprints([number("pn_1", "+15551234567", None), remote[1]]) != base


# --- against the emulator ---------------------------------------------------------------------------------
def session_for(client: RevoxClient) -> Session:
    """A session on the emulator `client` talks to, as the CLI builds one."""
    return Session(
        Environment(environ={}),
        api_key=API_KEY,
        base_url=client.base_url,
        explicit=frozenset({"base_url", "api_key"}),
    )


def plan_everything(client: RevoxClient, *, prune: bool = False) -> Plan:
    """What `revox-sync plan -d cfg` computes: every kind, planned against the same account."""
    return compute_plan(session_for(client), Path("cfg"), prune=prune, targets=()).plan


def apply_everything(client: RevoxClient, plan: Plan) -> list[Result]:
    from helpers import apply_all

    return apply_all(plan, client, parallelism=1)


def route_lines(plan: Plan) -> list[str]:
    return [line for line in TextRenderer().render(plan).splitlines() if "phone_number" in line]


def test_routes_planned_and_applied_in_order(sdk_contract: EmulatorServer, client: RevoxClient) -> None:
    emulator = sdk_contract
    old = emulator.state.seed_assistant({"name": "Old", "prompt": "old"})
    kept = emulator.state.seed_assistant({"name": "Reception", "prompt": "hi"})
    main = emulator.state.add_phone_number("+15551234567", label="Main", inbound_assistant_id=old["id"])
    sales = emulator.state.add_phone_number("+15557654321", label="Sales", inbound_assistant_id=kept["id"])
    other = emulator.state.add_phone_number("+15550000000", label="Unmanaged", inbound_assistant_id=old["id"])
    write("cfg/support.yaml", "name: Support\nprompt: Help callers.\n")
    write(
        "cfg/phone_numbers.yaml",
        "phone_numbers:\n"
        "  '+15551234567': {assistant: Support}\n"  # new in this plan
        "  '+15557654321': {assistant: Reception, label: Sales desk}\n",  # only the label changes
    )
    plan = plan_everything(client)
    assert [(a.kind, a.op, a.name) for a in plan.actions] == [
        ("assistant", "create", "Support"),
        ("phone_number", "update", "+15551234567"),
        ("phone_number", "update", "+15557654321"),
    ]
    assert route_lines(plan) == [
        '  ~ phone_number "+15551234567": inbound_assistant "Old" -> "Support" (created by this plan)',
        '  ~ phone_number "+15557654321": label "Sales" -> "Sales desk"',
    ]
    emulator.clear_requests()
    results = apply_everything(client, plan)
    assert all(r.ok and not r.not_stored for r in results), results
    new_id = results[0].id
    writes = [(r.method, r.path, r.body) for r in emulator.requests if r.method != "GET"]
    assert writes == [
        ("POST", "/assistants", {"name": "Support", "prompt": "Help callers."}),
        ("PATCH", f"/phone-numbers/{main['id']}", {"inbound_assistant_id": new_id}),
        ("PATCH", f"/phone-numbers/{sales['id']}", {"label": "Sales desk"}),
    ]
    by_number = {n["phone_number"]: n for n in client.list_phone_numbers()}
    assert by_number["+15551234567"]["inbound_assistant"]["id"] == new_id
    assert by_number["+15557654321"]["label"] == "Sales desk"
    assert by_number["+15550000000"]["inbound_assistant"]["id"] == old["id"]  # unmanaged: untouched
    assert other["id"] != main["id"]
    # converges: nothing left to do, no request that writes
    emulator.clear_requests()
    assert not plan_everything(client).has_changes
    assert {r.method for r in emulator.requests} == {"GET"}


def test_routing_to_an_existing_assistant_renamed_by_a_pinned_file(
    client: RevoxClient, emulator: EmulatorServer
) -> None:
    a = emulator.state.seed_assistant({"name": "Old name", "prompt": "p"})
    emulator.state.add_phone_number("+15551234567")
    write("cfg/a.yaml", f"id: {a['id']}\nname: New name\nprompt: p\n")
    write("cfg/phone_numbers.yaml", "phone_numbers: {'+15551234567': {assistant: New name}}\n")
    rename, change = plan_everything(client).actions
    assert (rename.kind, rename.op) == ("assistant", "update")
    assert change.body == {"inbound_assistant_id": a["id"]}
    assert [(c.path, c.before, c.after) for c in change.changes] == [("inbound_assistant", None, "New name")]


def test_route_to_an_unknown_assistant_fails_before_any_write(
    client: RevoxClient, emulator: EmulatorServer
) -> None:
    emulator.state.add_phone_number("+15551234567")
    write("cfg/support.yaml", "name: Support\nprompt: Help callers.\n")
    write("cfg/phone_numbers.yaml", "phone_numbers:\n  '+15551234567':\n    assistant: Suport\n")
    with pytest.raises(ConfigErrors) as info:
        plan_everything(client)
    assert [str(e) for e in info.value.errors] == [
        "cfg/phone_numbers.yaml:3:16: +15551234567: no assistant named 'Suport' in the files or the account; "
        "did you mean 'Support'?"
    ]
    assert {r.method for r in emulator.requests} == {"GET"}
    assert emulator.state.list_assistants() == []


def test_unowned_number_fails_at_plan_time(client: RevoxClient, emulator: EmulatorServer) -> None:
    write("cfg/support.yaml", "name: Support\nprompt: Help callers.\n")
    write("cfg/phone_numbers.yaml", "phone_numbers:\n  '+15551234567': {assistant: Support}\n")
    with pytest.raises(
        ConfigErrors, match=r"cfg/phone_numbers.yaml:2:3: \+15551234567 is not a number this account owns"
    ):
        plan_everything(client)
    assert {r.method for r in emulator.requests} == {"GET"}


def test_a_failed_create_skips_only_the_routes_that_need_it(
    client: RevoxClient, emulator: EmulatorServer
) -> None:
    keep = emulator.state.seed_assistant({"name": "Keep", "prompt": "p"})
    emulator.state.add_phone_number("+15551234567")
    emulator.state.add_phone_number("+15557654321")
    write("cfg/new.yaml", "name: New\nprompt: p\n")
    write(
        "cfg/phone_numbers.yaml",
        "phone_numbers:\n  '+15551234567': {assistant: New}\n  '+15557654321': {assistant: Keep}\n",
    )
    plan = plan_everything(client)
    emulator.inject("POST", "^/assistants$", status=400)  # the create fails
    results = apply_everything(client, plan)
    assert [(r.action.kind, r.action.name, r.outcome) for r in results] == [
        ("assistant", "New", "failed"),
        ("phone_number", "+15551234567", "skipped"),
        ("phone_number", "+15557654321", "succeeded"),
    ]
    assert results[1].error == 'assistant "New" was not created'
    by_number = {n["phone_number"]: n for n in client.list_phone_numbers()}
    assert by_number["+15557654321"]["inbound_assistant"]["id"] == keep["id"]
    assert by_number["+15551234567"]["inbound_assistant"] is None


def test_prune_and_route_to_the_pruned_assistant_is_refused(
    client: RevoxClient, emulator: EmulatorServer
) -> None:
    emulator.state.seed_assistant({"name": "Legacy", "prompt": "p"})
    emulator.state.add_phone_number("+15551234567")
    write("cfg/a.yaml", "name: A\nprompt: p\n")
    write("cfg/phone_numbers.yaml", "phone_numbers: {'+15551234567': {assistant: Legacy}}\n")
    plan_everything(client)  # without --prune, routing to an unmanaged assistant of the account is fine
    with pytest.raises(ConfigErrors, match="which this plan destroys"):
        plan_everything(client, prune=True)
    assert API_KEY  # the fixtures' key; keeps the import used


# --- through the CLI -------------------------------------------------
def run_cli_or_skip(*args: str, emulator: EmulatorServer):  # type: ignore[no-untyped-def]
    from helpers import run_cli

    return run_cli("--base-url", emulator.url, "--api-key", API_KEY, *args, environ={})


def test_cli_plan_apply_and_saved_plan_with_routes(emulator: EmulatorServer, tmp_path: Path) -> None:
    old = emulator.state.seed_assistant({"name": "Old", "prompt": "old"})
    main = emulator.state.add_phone_number("+15551234567", label="Main", inbound_assistant_id=old["id"])
    write("assistants/support.yaml", "name: Support\nprompt: Help callers.\n")
    write("assistants/phone_numbers.yaml", "phone_numbers:\n  '+15551234567': {assistant: Support}\n")
    r = run_cli_or_skip("plan", "--out", "plan.json", emulator=emulator)
    assert r.code == 0, r.all
    assert (
        '  ~ phone_number "+15551234567": inbound_assistant "Old" -> "Support" (created by this plan)'
        in r.out
    )
    assert "Plan: 1 to add, 1 to change, 0 to destroy." in r.out
    md = run_cli_or_skip("plan", "--format", "markdown", emulator=emulator)
    assert "| ~ | phone_number | `+15551234567` | " in md.out
    emulator.clear_requests()
    r = run_cli_or_skip("apply", "--auto-approve", "plan.json", emulator=emulator)
    assert r.code == 0, r.all
    writes = [(w.method, w.path) for w in emulator.requests if w.method != "GET"]
    assert writes == [("POST", "/assistants"), ("PATCH", f"/phone-numbers/{main['id']}")]
    assert "Apply complete! Resources: 1 added, 1 changed, 0 destroyed." in r.out
    assert run_cli_or_skip("plan", "--detailed-exitcode", emulator=emulator).code == 0
    # a saved plan goes stale when someone re-routes the number in the dashboard
    write("assistants/phone_numbers.yaml", "phone_numbers:\n  '+15551234567': {assistant: Old}\n")
    assert run_cli_or_skip("plan", "--out", "plan2.json", emulator=emulator).code == 0
    emulator.state.update_phone_number(main["id"], {"label": "Dashboard edit"})
    write(
        "assistants/phone_numbers.yaml", "phone_numbers:\n  '+15551234567': {assistant: Old, label: Main}\n"
    )
    r = run_cli_or_skip("apply", "--auto-approve", "plan2.json", emulator=emulator)
    assert r.code == 1 and "plan is stale" in r.err


def test_cli_route_to_unknown_assistant_fails_before_any_write(emulator: EmulatorServer) -> None:
    emulator.state.add_phone_number("+15551234567")
    write("assistants/support.yaml", "name: Support\nprompt: Help callers.\n")
    write("assistants/phone_numbers.yaml", "phone_numbers:\n  '+15551234567': {assistant: Nobody}\n")
    r = run_cli_or_skip("apply", "--auto-approve", emulator=emulator)
    assert r.code == 1
    assert "assistants/phone_numbers.yaml:2:31: +15551234567: no assistant named 'Nobody'" in r.err
    assert {w.method for w in emulator.requests} == {"GET"}
    r = run_cli_or_skip("validate", emulator=emulator)  # offline: the file's shape is fine
    assert r.code == 0, r.all
    write("assistants/phone_numbers.yaml", "phone_numbers:\n  '555': {assistant: Nobody}\n")
    r = run_cli_or_skip("validate", emulator=emulator)
    assert r.code == 1 and "'555' is not an E.164 number" in r.err


def test_local_mode_supports_phone_numbers(emulator: EmulatorServer) -> None:
    from helpers import run_cli

    run_cli_or_skip("validate", emulator=emulator)  # skips when not integrated
    write("assistants/support.yaml", "name: Support\nprompt: Help callers.\n")
    write(
        "assistants/phone_numbers.yaml",
        "phone_numbers:\n  '+15551234567': {assistant: Support, label: Main}\n",
    )
    r = run_cli("--local", "apply", "--auto-approve", environ={})
    assert r.code == 0, r.all
    assert "Local emulator: added +15551234567" in r.err
    r = run_cli("--local", "plan", "--detailed-exitcode", environ={})
    assert r.code == 0, r.all


def test_a_failed_reroute_keeps_the_assistant_it_would_leave(emulator: EmulatorServer) -> None:
    """The old assistant goes only once its number points elsewhere: a live line never routes to nothing."""
    old = emulator.state.seed_assistant({"name": "Old bot", "prompt": "p"})
    number = emulator.state.add_phone_number("+15550000001", inbound_assistant_id=old["id"])
    write("assistants/new.yaml", "name: New bot\nprompt: p\n")
    write("assistants/phone_numbers.yaml", "phone_numbers:\n  '+15550000001': {assistant: New bot}\n")
    emulator.inject("PATCH", "^/phone-numbers/", status=400)
    r = run_cli_or_skip("apply", "--auto-approve", "--prune", emulator=emulator)
    assert r.code == 1
    assert (
        f'  skipped:   delete assistant "Old bot": phone_number "+15550000001" ({number["id"]}) still refers to '
        "it (its update did not succeed)"
    ) in r.err.splitlines()
    assert [a["name"] for a in emulator.state.list_assistants()] == ["Old bot", "New bot"]
    assert not any(w.method == "DELETE" for w in emulator.requests)
    r = run_cli_or_skip("apply", "--auto-approve", "--prune", emulator=emulator)  # the rerun finishes
    assert r.code == 0, r.all
    assert [a["name"] for a in emulator.state.list_assistants()] == ["New bot"]


def test_prune_never_destroys_an_assistant_a_number_still_routes_to(emulator: EmulatorServer) -> None:
    old = emulator.state.seed_assistant({"name": "Old bot", "prompt": "p"})
    emulator.state.add_phone_number("+15550000009", inbound_assistant_id=old["id"])  # not in the file
    emulator.state.add_phone_number("+15550000001")
    write("assistants/a.yaml", "name: A\nprompt: p\n")
    write("assistants/phone_numbers.yaml", "phone_numbers:\n  '+15550000001': {assistant: A}\n")
    r = run_cli_or_skip("plan", "--prune", emulator=emulator)
    assert (r.code, r.out) == (1, "")
    assert r.err == (
        f'phone_numbers.yaml: cannot destroy assistant "Old bot" ({old["id"]}): phone numbers still route to '
        "it: +15550000009; route them elsewhere in phone_numbers.yaml first\n1 error.\n"
    )
