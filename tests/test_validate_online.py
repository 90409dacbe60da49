"""`validate --online`: voice ids and owned numbers checked against the account, errors at the value."""

from __future__ import annotations

from helpers import write


def test_online_checks_voices_and_numbers(cli, emulator, workdir) -> None:
    emulator.state.add_phone_number("+14155550100")
    write(
        workdir / "assistants/a.yaml",
        "name: A\nprompt: p\nvoice: {provider: cartesia, id: a0e99841-438c-4a64-b679-ae501e7d6091}\n"
        "from_phone_number: '+14155550100'\n",
    )
    write(
        workdir / "assistants/b.yaml",
        "name: B\nprompt: p\nvoice: {provider: elevenlabs, id: nope}\nfrom_phone_number: '+14155550199'\n",
    )
    offline = cli("validate")
    assert offline.code == 0 and emulator.requests == []
    online = cli("validate", "--online")
    assert online.code == 1
    assert "assistants/b.yaml:3:35: voice.id: no elevenlabs voice 'nope' in this account" in online.err
    assert (
        "assistants/b.yaml:4:20: from_phone_number: +14155550199 is not a number this account owns"
        in online.err
    )
    assert "a.yaml" not in online.err
    assert {r.method for r in emulator.requests} == {"GET"}
