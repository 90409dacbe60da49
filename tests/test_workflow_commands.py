"""No text from the repository or the account starts a GitHub Actions workflow command or a mention
(issue 21, point 4). GitHub's runner reads `::name ...::` at the start of a step's log line (after its
leading whitespace) and the legacy `##[name ...]` anywhere in one; a pull-request comment pings `@team`,
links `[x](url)`, shows `![i](url)` and renders HTML. Every output that reaches a step log or a comment is
run here with hostile names, prompts and rule messages, and read as the runner and GitHub would."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import write
from test_action import ROOT, run_step

from revox_sync.output import printable
from revox_sync.pr_comment import comment_body

HOSTILE = "Bob @acme/team [x](https://evil.example) ![i](https://evil.example/p.png) <img src=x> ``a`b ##[add-mask]m"
INJECTED = "\n::error title=x::pwned\n::add-mask::x\n  ::stop-commands::tok\n##[error]legacy"
LINES = (
    "::error title=x::pwned",
    "   ::add-mask::x",
    "##[error]legacy",
    "Ask @acme/team, see https://evil.example",
)
PROMPT = "\n".join(("Greet the caller.", *LINES))


def desk_prompt(tag: str) -> str:
    """Each hostile line between two lines that change: a context line of the diff."""
    return "".join(f"{tag} {i}\n{line}\n" for i, line in enumerate(LINES)) + f"{tag} end"


def commands(text: str) -> list[str]:
    """The lines of a step log that the runner would take for a workflow command."""
    return [line for line in text.splitlines() if line.lstrip().startswith("::") or "##[" in line]


def live_markdown(markdown: str) -> list[str]:
    """What GitHub would render live in `markdown` outside code: mentions, links, images, bare URLs, HTML
    other than the plan's own <details>, <summary> and <code>."""
    text = re.sub(r"^```.*?^```$", "", markdown, flags=re.S | re.M)  # fenced blocks
    text = re.sub(r"<code>.*?</code>", "", text)
    text = re.sub(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", "", text)  # code spans, fence runs matched
    pattern = r"@\w|\]\(|!\[|https?://|www\.|<(?!/?(?:details|summary|code)>|!-- revox-sync plan: )"
    return re.findall(rf".{{0,20}}(?:{pattern}).{{0,20}}", text)


@pytest.fixture
def hostile(workdir: Path, emulator) -> dict[str, str]:
    """A file of a hostile name and prompt; in the account, an assistant of that prompt to update (a diff
    with hostile context lines) and one whose dashboard name holds line breaks and commands."""
    write(workdir / "assistants/bob.yaml", f"name: {json.dumps(HOSTILE)}\nprompt: {json.dumps(PROMPT)}\n")
    write(workdir / "assistants/desk.yaml", f"name: Desk\nprompt: {json.dumps(desk_prompt('now'))}\n")
    desk = emulator.state.seed_assistant({"name": "Desk", "prompt": desk_prompt("before")})
    old = emulator.state.seed_assistant({"name": f"Old {HOSTILE}{INJECTED}", "prompt": "x"})
    return {"desk": desk["id"], "old": old["id"]}


def test_printable_breaks_a_command_and_only_a_command() -> None:
    assert printable("::error::x") == "\\u003a:error::x"
    assert printable(" \t\u3000::add-mask::x") == " \t\u3000\\u003a:add-mask::x"  # Unicode spaces trimmed too
    assert printable("see ##[error]x and ##[x") == "see \\u0023#[error]x and \\u0023#[x"
    assert printable("a::b :: c # [x] #[y]") == "a::b :: c # [x] #[y]"  # mid-line `::` is no command
    assert printable(printable("::x ##[y]")) == printable("::x ##[y]")


def test_text_plan_escapes_names_and_breaks_commands_in_diff_lines(cli, hostile) -> None:
    result = cli("plan", "--prune")
    assert result.code == 0, result.all
    assert commands(result.all) == []
    lines = result.out.splitlines()
    assert "           \\u003a:error title=x::pwned" in lines  # a context line of the prompt's diff
    assert "              \\u003a:add-mask::x" in lines
    assert "           \\u0023#[error]legacy" in lines
    assert (
        '  + assistant "Bob @acme/team [x](https://evil.example) ![i](https://evil.example/p.png) <img src=x> ``a`b \\u0023#[add-mask]m" will be created'
        in lines
    )
    destroyed = [line for line in lines if line.startswith("  - assistant")]
    assert destroyed == [
        '  - assistant "Old Bob @acme/team [x](https://evil.example) ![i](https://evil.example/p.png) <img src=x> '
        "``a`b \\u0023#[add-mask]m\\u000a::error title=x::pwned\\u000a::add-mask::x\\u000a  ::stop-commands::tok"
        f'\\u000a\\u0023#[error]legacy" ({hostile["old"]}) will be destroyed'
    ]
    note = cli("plan").all  # the undeclared note quotes the dashboard's name
    assert "Note: 1 remote assistant is not declared" in note and commands(note) == []


def test_json_plan_keeps_every_value_while_no_line_is_a_command(cli, hostile) -> None:
    result = cli("plan", "--prune", "--format", "json")
    assert result.code == 0, result.all
    assert commands(result.all) == []
    names = [a["name"] for a in json.loads(result.out)["actions"]]
    assert sorted(names) == sorted([HOSTILE, "Desk", f"Old {HOSTILE}{INJECTED}"])  # escaped, yet equal


def test_markdown_plan_and_comment_show_names_and_prompts_inert(cli, hostile) -> None:
    result = cli("plan", "--prune", "--format", "markdown")
    assert result.code == 0, result.all
    assert commands(result.all) == []
    body = comment_body("staging", result.out)
    assert live_markdown(body) == []
    lines = body.splitlines()
    assert (
        "| + | assistant | ```Bob @acme/team [x](https://evil.example) ![i](https://evil.example/p.png) "
        "<img src=x> ``a`b \\u0023#[add-mask]m``` |  | create |  |" in lines
    )
    assert (
        "<details><summary>+ assistant <code>Bob @acme/team [x](https://evil.example) "
        "![i](https://evil.example/p.png) &lt;img src=x&gt; ``a`b \\u0023#[add-mask]m</code> will be created"
        "</summary>" in lines
    )
    assert f"| ~ | assistant | `Desk` | `{hostile['desk']}` | update | `prompt` |" in lines
    assert "     \\u003a:error title=x::pwned" in lines  # a context line in the diff fence
    note = cli("plan", "--format", "markdown").out
    assert "Note: 1 remote assistant is not declared in any file (`" in note and live_markdown(note) == []


def test_a_name_of_backticks_pipes_or_tags_stays_in_its_code(cli, workdir) -> None:
    write(workdir / "assistants/a.yaml", 'name: "`@acme` | ``x``"\nprompt: p\n')
    write(workdir / "assistants/b.yaml", 'name: "x</code></summary>@acme &amp;"\nprompt: p\n')
    md = cli("plan", "--format", "markdown").out
    lines = md.splitlines()
    assert "| + | assistant | ``` `@acme` \\| ``x`` ``` |  | create |  |" in lines
    assert "| + | assistant | `x</code></summary>@acme &amp;` |  | create |  |" in lines
    assert (
        "<details><summary>+ assistant <code>x&lt;/code&gt;&lt;/summary&gt;@acme &amp;amp;</code> will be created"
        "</summary>" in lines
    )
    assert live_markdown(md) == []


def test_apply_progress_and_results_start_no_command(cli, hostile, emulator) -> None:
    result = cli("apply", "--prune", "--auto-approve")
    assert result.code == 0, result.all
    assert commands(result.all) == []
    assert f'\\u000a\\u0023#[error]legacy" ({hostile["old"]})' in result.out  # the destroy, as it goes
    assert sorted(a["name"] for a in emulator.state.list_assistants()) == sorted([HOSTILE, "Desk"])
    assert commands(cli("apply", "--auto-approve", "--format", "json").all) == []


RULE = (
    "rules:\n  ai-disclosure: off\n  opt-out: off\n  fixed-timezone: off\n  custom:\n"
    f"    - {{id: no-greet, path: prompt, forbid: Greet, message: {json.dumps('greeting' + INJECTED)}}}\n"
)


def test_validate_text_prints_each_finding_on_one_line(workdir) -> None:
    from helpers import run_cli

    write(workdir / "revox-sync.yaml", RULE)
    write(workdir / "assistants/a.yaml", f"name: Desk\nprompt: {json.dumps(PROMPT)}\n")
    result = run_cli("validate")
    assert result.code == 1, result.all
    assert commands(result.all) == []
    assert result.err.splitlines() == [
        "assistants/a.yaml:2:9: [no-greet] prompt: greeting\\u000a::error title=x::pwned\\u000a::add-mask::x"
        "\\u000a  ::stop-commands::tok\\u000a\\u0023#[error]legacy",
        "1 error.",
    ]


def test_validate_github_escapes_message_data_with_githubs_own_escapes(workdir) -> None:
    from helpers import run_cli

    write(workdir / "revox-sync.yaml", RULE)
    write(workdir / "assistants/a.yaml", f"name: Desk\nprompt: {json.dumps(PROMPT)}\n")
    result = run_cli("validate", "--format", "github")
    assert result.code == 1, result.all
    assert result.out.splitlines() == [
        "::error file=assistants/a.yaml,line=2,col=9,title=revox-sync [no-greet]::prompt: greeting%0A::error title=x::pwned"
        "%0A::add-mask::x%0A  ::stop-commands::tok%0A\\u0023#[error]legacy"
    ]
    assert result.err == ""
    document = run_cli("validate", "--format", "json")
    sarif = run_cli("validate", "--format", "sarif")
    assert commands(document.all + sarif.all) == []  # yet the same messages, once read as JSON
    assert json.loads(document.out)["findings"][0]["message"] == "prompt: greeting" + INJECTED
    assert json.loads(sarif.out)["runs"][0]["results"][0]["message"]["text"] == "prompt: greeting" + INJECTED


def test_the_actions_log_summary_and_comment_carry_no_command_nor_mention(workdir: Path, emulator) -> None:
    """The action's shell step as the runner runs it: every line of its log, its job summary and the
    comment file."""
    code_here = {"PYTHONPATH": str(ROOT)}  # the revox-sync the step runs is this checkout's
    (workdir / ".git").mkdir()
    write(
        workdir / "revox-sync.yaml",
        f"environments:\n  staging: {{api_key_env: REVOX_API_KEY_STAGING, base_url: '{emulator.url}'}}\n{RULE}",
    )
    write(workdir / "assistants/bob.yaml", f"name: {json.dumps(HOSTILE)}\nprompt: Hello.\n")
    emulator.state.seed_assistant({"name": f"Old {HOSTILE}{INJECTED}", "prompt": PROMPT})
    code, log, outputs, summary = run_step(
        "run", workdir, {"command": "plan", "environment": "staging"}, code_here
    )
    assert code == 0, log
    assert commands(log) == [] and live_markdown(summary) == []
    comment = Path(outputs["comment-file"]).read_text(encoding="utf-8")
    assert HOSTILE.split(" ")[1] in comment and live_markdown(comment) == []
    write(workdir / "assistants/bob.yaml", f"name: {json.dumps(HOSTILE)}\nprompt: {json.dumps(PROMPT)}\n")
    code, log, _, summary = run_step(
        "run", workdir, {"command": "validate", "environment": "staging"}, code_here
    )
    assert code == 1, log
    assert [line.split("::", 2)[1] for line in commands(log)] == [
        "error file=assistants/bob.yaml,line=2,col=9,title=revox-sync [no-greet]"
    ]  # its one annotation, and nothing the files wrote
    code, log, _, summary = run_step(
        "run", workdir, {"command": "apply", "environment": "staging"}, code_here
    )
    assert code == 1 and "1 policy error in what this apply changes" in log, log  # the finding, inert
    assert commands(log + summary) == []


def test_doctor_prints_a_base_url_of_the_project_file_inert(workdir, emulator) -> None:
    from helpers import run_cli

    (workdir / ".git").mkdir()
    write(
        workdir / "revox-sync.yaml",
        f"environments:\n  staging: {{api_key_env: REVOX_API_KEY_S, base_url: '{emulator.url}/##[add-mask]x'}}\n",
    )
    write(workdir / "assistants/a.yaml", "name: A\nprompt: p\n")
    result = run_cli("--env", "staging", "doctor", environ={"REVOX_API_KEY_S": "key-0123456789", "PATH": ""})
    assert result.code == 1, result.all
    assert commands(result.all) == []
    assert f"{emulator.url}/\\u0023#[add-mask]x" in result.out


def test_a_secret_holding_a_command_is_blanked_in_its_escaped_form_too(cli, workdir, emulator) -> None:
    secret = "tok-##[add-mask]-0123456789"
    write(
        workdir / "assistants/a.yaml",
        "name: Desk\nprompt: |\n  Call the CRM with ${CRM_TOKEN}.\n  Then say bye.\n"
        "custom_tools:\n  - name: crm\n    description: d\n    url: https://crm.example/x\n    method: GET\n"
        "    headers: [{key: Authorization, value: '${CRM_TOKEN}'}]\n",
    )
    environ = {"CRM_TOKEN": secret, "PATH": ""}
    outputs = [cli("plan", "--format", f, environ=environ) for f in ("text", "markdown", "json")]
    outputs.append(cli("apply", "--auto-approve", environ=environ))
    for result in outputs:
        assert result.code == 0, result.all
        assert secret not in result.all and printable(secret) not in result.all
        assert commands(result.all) == []
    assert "(sensitive: ${CRM_TOKEN})" in outputs[0].out


def test_the_last_line_of_defence_blanks_a_secret_as_a_line_prints_it() -> None:
    """Renderers make a line printable before the environment blanks secrets in it: a secret's escaped
    form is blanked as well as its raw one."""
    import io

    from revox_sync.output import Environment

    secret = "tok-##[add-mask]-0123456789"
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, environ={})
    env.add_secrets([secret])
    env.out(printable(f"prompt: {secret}"))
    env.err(f"{secret}\n{secret}")
    assert out.getvalue() == "prompt: (sensitive)\n"
    assert err.getvalue() == "(sensitive)\n(sensitive)\n"
