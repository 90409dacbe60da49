"""The built-in rule pack: what a compliance reviewer checks in an outbound assistant before it dials anyone,
and mistakes that are sure in one file or across files. One table (`BUILTIN`), each rule with its id,
default severity, source and parameters; state profiles (`PROFILES`) tighten them.

An assistant is *outbound* when its file declares `call_retry_config` or `from_phone_number`, the two
fields that only matter for calls it places. Rules check what files declare: a field a file leaves out is
unmanaged and not checked, but the omitted sub-fields of a declared `call_retry_config` mean the API's
defaults (10:00–18:00, Monday to Friday, 3 attempts two hours apart), and are checked as such.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from revox_sync.config.yaml import Loc
from revox_sync.engine.change import leaves
from revox_sync.kinds.assistant.fields import WORKDAYS, parse_time
from revox_sync.names import name_key
from revox_sync.rules.rule import Hit, Params, Rule, Subject
from revox_sync.sensitive import Hidden

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_WINDOW = {
    "calling_window_start_time": "10:00",
    "calling_window_end_time": "18:00",
    "retry_delay_seconds": 7200,
}
CRC = "call_retry_config"


# --- state profiles -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Profile:
    """A state's stricter rules. `statute` says whether the entry was read in the statute itself; the others
    come from compliance summaries and need checking against the current law."""

    title: str
    window: tuple[str, str]
    source: str
    statute: bool
    daily_cap: int | None = None
    no_sunday: bool = False
    holidays: bool = False  # bans calls on state holidays: no field of an assistant can say which days


PROFILES: Mapping[str, Profile] = {
    "florida": Profile(
        "Florida",
        ("08:00", "20:00"),
        "Fla. Stat. § 501.616(6)(a) (8 a.m. to 8 p.m.), § 501.616(6)(b) (3 calls per 24 hours)",
        True,
        daily_cap=3,
    ),
    "oklahoma": Profile(
        "Oklahoma",
        ("08:00", "20:00"),
        "Okla. Stat. tit. 15, § 775C.4 (Telephone Solicitation Act of 2022)",
        True,
        daily_cap=3,
    ),
    "maryland": Profile(
        "Maryland",
        ("08:00", "20:00"),
        "Maryland Stop the Spam Calls Act of 2023, Md. Code, Com. Law § 14-4501 and following",
        False,
        daily_cap=3,
    ),
    "mississippi": Profile(
        "Mississippi",
        ("08:00", "20:00"),
        "Miss. Code Ann. § 77-3-723(1) (no solicitation on a Sunday; 8 a.m. to 8 p.m.)",
        True,
        no_sunday=True,
    ),
    "alabama": Profile(
        "Alabama",
        ("08:00", "20:00"),
        "Alabama Public Service Commission telephone solicitation rules",
        False,
        no_sunday=True,
        holidays=True,
    ),
    "louisiana": Profile(
        "Louisiana",
        ("08:00", "20:00"),
        "La. R.S. 45:844.11 and following (Louisiana telephone solicitation rules)",
        False,
        no_sunday=True,
        holidays=True,
    ),
}


def profile_params(names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The settings the selected profiles give the rules: the strictest window and cap of them all."""
    chosen = [PROFILES[n] for n in names]
    out: dict[str, dict[str, Any]] = {}
    if not chosen:
        return out
    start = max(p.window[0] for p in chosen)
    end = min(p.window[1] for p in chosen)
    out["state-calling-hours"] = {
        "severity": "error",
        "window": (start, end),
        "because": _because([p for p in chosen if p.window[1] == end or p.window[0] == start]),
    }
    capped = [p for p in chosen if p.daily_cap is not None]
    if capped:
        cap = min(p.daily_cap for p in capped if p.daily_cap is not None)
        out["retry-cap"] = {
            "severity": "error",
            "max_per_day": cap,
            "because": _because([p for p in capped if p.daily_cap == cap]),
        }
    sunday = [p for p in chosen if p.no_sunday]
    if sunday:
        out["sunday-calls"] = {"severity": "error", "because": _because(sunday)}
    return out


def _because(profiles: Sequence[Profile]) -> str:
    """The law a finding names: the one profile's source, or the profiles by name (`revox-sync rules` lists
    their sources)."""
    if len(profiles) == 1:
        return f"{profiles[0].title} ({profiles[0].source})"
    titles = [p.title for p in profiles]
    return f"the {', '.join(titles[:-1])} and {titles[-1]} profiles (sources: revox-sync rules)"


# --- helpers ----------------------------------------------------------------------------------------------
def is_outbound(data: Mapping[str, Any]) -> bool:
    return CRC in data or bool(data.get("from_phone_number"))


def _retry_config(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The declared call_retry_config with the API's defaults for what it leaves out; None when there is none,
    or when it holds a secret (a schedule the rules cannot know without testing it)."""
    crc = data.get(CRC)
    if not isinstance(crc, dict) or any(isinstance(v, Hidden) for v in leaves(crc)):
        return None
    windows = crc.get("calling_windows")
    return {
        "allowed_days": list(crc.get("allowed_days", WORKDAYS)),
        "call_twice_in_a_row": bool(crc.get("call_twice_in_a_row", False)),
        "max_retry_attempts": int(crc.get("max_retry_attempts", 3)),
        "timezone": crc.get("timezone"),
        "calling_windows": [{**DEFAULT_WINDOW, **w} for w in windows]
        if isinstance(windows, list)
        else [dict(DEFAULT_WINDOW)],
    }


def _minutes(text: Any) -> int | None:
    parsed = parse_time(str(text))
    if parsed is None:
        return None
    hours, minutes = parsed.split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _windows(crc: Mapping[str, Any], *, overnight: bool = False) -> Iterator[tuple[int, int, int, int]]:
    """(index, start, end, delay seconds) of each well-formed calling window; with `overnight`, of each
    window that ends before it starts instead."""
    for i, window in enumerate(crc["calling_windows"]):
        start = _minutes(window["calling_window_start_time"])
        end = _minutes(window["calling_window_end_time"])
        if start is not None and end is not None and (start >= end) == overnight:
            yield i, start, end, int(window["retry_delay_seconds"])


# What a word processor or a phone keyboard types for ' and -; NFKC (below) folds fullwidth letters and digits.
_TYPOGRAPHY = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u02bc\u2032", "'"),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    }
)


def _plain(text: str) -> str:
    """`text` with typographic apostrophes and dashes, and fullwidth forms, as their plain ASCII selves."""
    if text.isascii():
        return text
    import unicodedata

    return unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)


def _says(text: Any, phrases: Sequence[str]) -> bool:
    """Whether `text` holds one of `phrases` as whole words, whatever the case, the spacing and the typography
    (`don’t`, `opt‑out`). Plain substring searches: a 10 KB prompt is scanned in microseconds, where one
    regular expression of alternatives took a quarter of a millisecond."""
    if not isinstance(text, str):
        return False
    wanted = [" ".join(_plain(p).lower().split()) for p in phrases]
    low = _plain(text).lower()
    return _finds(low, wanted) or _finds(" ".join(low.split()), wanted)


def _finds(text: str, phrases: Sequence[str]) -> bool:
    for phrase in phrases:
        at = text.find(phrase) if phrase else -1
        while at >= 0:
            if not _word(text, at - 1) and not _word(text, at + len(phrase)):
                return True
            at = text.find(phrase, at + 1)
    return False


def _word(text: str, index: int) -> bool:
    return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")


def _window_loc(i: int, key: str) -> Loc:
    return (CRC, "calling_windows", i, key)


# --- per-file rules ---------------------------------------------------------------------------------------
def _hours(subject: Subject, params: Params, law: str) -> Iterator[Hit]:
    crc = _retry_config(subject.data)
    if crc is None:
        return
    earliest, latest = (_minutes(t) for t in params["window"])
    assert earliest is not None and latest is not None  # the project file's times are checked when read
    for i, start, end, _ in _windows(crc):
        if start < earliest:
            yield Hit(
                _window_loc(i, "calling_window_start_time"),
                f"calls from {_hhmm(start)}, before {_hhmm(earliest)} in the recipient's time zone ({law})",
            )
        if end > latest:
            yield Hit(
                _window_loc(i, "calling_window_end_time"),
                f"calls until {_hhmm(end)}, after {_hhmm(latest)} in the recipient's time zone ({law})",
            )
    for i, start, end, _ in _windows(crc, overnight=True):  # all night, if the API reads it so
        yield Hit(
            _window_loc(i, "calling_window_end_time"),
            f"the window ends before it starts: read as crossing midnight, it calls from {_hhmm(start)} to "
            f"{_hhmm(end)}, outside {_hhmm(earliest)}–{_hhmm(latest)} in the recipient's time zone ({law})",
        )


def calling_hours(subject: Subject, params: Params) -> Iterator[Hit]:
    yield from _hours(subject, params, "47 CFR 64.1200(c)(1)")


def state_calling_hours(subject: Subject, params: Params) -> Iterator[Hit]:
    yield from _hours(subject, params, params.get("because") or "the state window set in revox-sync.yaml")


def sunday_calls(subject: Subject, params: Params) -> Iterator[Hit]:
    crc = _retry_config(subject.data)
    if crc is not None and "sunday" in crc["allowed_days"]:
        index = crc["allowed_days"].index("sunday")
        because = params.get("because") or "a Sunday ban set in revox-sync.yaml"
        yield Hit((CRC, "allowed_days", index), f"calls on Sundays, which {because} bans")


def attempts_per_day(crc: Mapping[str, Any], limit: int) -> int:
    """The most attempts one person can get within any 24 hours, counted up to `limit`: each attempt waits
    its window's retry_delay_seconds (attempt 2 none with call_twice_in_a_row) and only falls inside a
    calling window on an allowed day. Overlapping windows are merged (with the shorter delay), so a file of
    many windows costs no more.

    The count only rises, as the first call moves later, where an attempt that waited for a window to open
    comes inside the 24 hours: just after (that attempt's time - 24 h). Such times are the attempts from a
    first call at a window's opening, so those openings and a second after each such time are the only
    first calls to try."""
    attempts: int = min(int(crc["max_retry_attempts"]), limit)
    days = [d for d, day in enumerate(DAYS) if day in crc["allowed_days"]]
    spans = sorted((d * 1440 + s, d * 1440 + e, delay / 60) for d in days for _, s, e, delay in _windows(crc))
    merged: list[list[float]] = []
    for start, end, delay in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] = min(merged[-1][2], delay)
        else:
            merged.append([start, end, delay])
    if not merged or attempts <= 1:
        return min(attempts, len(merged))
    week = 7 * 1440
    laps = [(s + lap * week, e + lap * week, w) for lap in range(3) for s, e, w in merged]
    ends = [e for _, e, _ in laps]

    def next_open(t: float) -> tuple[float, float] | None:
        i = bisect.bisect_right(ends, t)
        return (max(t, laps[i][0]), laps[i][2]) if i < len(laps) else None

    def run(t0: float) -> list[float]:
        """The attempts of a first call at t0 (inside a window) that fall within 24 hours."""
        times, at = [t0], next_open(t0)
        while at is not None and len(times) < attempts:
            t, wait = at
            at = next_open(t + (0 if len(times) == 1 and crc["call_twice_in_a_row"] else wait))
            if at is None or at[0] >= t0 + 1440:
                break
            times.append(at[0])
        return times

    best, later = 1, set()
    for opens, _, _ in merged:
        times = run(opens)
        best = max(best, len(times))
        if best >= attempts:
            return best
        later.update(times)
    second = 1 / 60  # times are whole minutes plus whole seconds of delay
    for t in sorted(later):
        t0 = (t - 1440 + second) % week
        at = next_open(t0)
        if at is not None and at[0] <= t0:  # a first call is inside a window
            best = max(best, len(run(t0)))
            if best >= attempts:
                return best
    return best


def retry_cap(subject: Subject, params: Params) -> Iterator[Hit]:
    crc = _retry_config(subject.data)
    cap = int(params["max_per_day"])
    if crc is None or crc["max_retry_attempts"] <= cap:
        return
    found = attempts_per_day(crc, limit=100)
    if found > cap:
        twice = ", call_twice_in_a_row" if crc["call_twice_in_a_row"] else ""
        because = params.get("because") or "the cap set in revox-sync.yaml"
        shown = f"{found} or more" if found >= 100 else f"up to {found}"
        yield Hit(
            (CRC, "max_retry_attempts"),
            f"{shown} attempts can reach one person within 24 hours (max_retry_attempts "
            f"{crc['max_retry_attempts']}{twice}), above {cap}: {because}",
        )


def ai_disclosure(subject: Subject, params: Params) -> Iterator[Hit]:
    data = subject.data
    if not is_outbound(data):
        return
    if data.get("first_sentence_mode") == "none":
        yield Hit(
            ("first_sentence_mode",),
            "none: an outbound assistant must open by saying it is an AI voice",
        )
    elif "first_sentence" in data and not _says(data["first_sentence"], params["phrases"]):
        yield Hit(
            ("first_sentence",),
            f"does not say the caller is an AI voice (none of: {_listed(params['phrases'])})",
        )


def _listed(phrases: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(repr(p) for p in phrases[:limit])
    return shown + (f", ... ({len(phrases) - limit} more)" if len(phrases) > limit else "")


_CALLBACK = re.compile(r"\+?\d(?:[\s().-]*\d){9,14}|\{\{\s*\w*(?:phone|number|callback)\w*\s*\}\}", re.I)


def voicemail_callback(subject: Subject, params: Params) -> Iterator[Hit]:
    message = subject.data.get("voicemail_message")
    if isinstance(message, str) and message.strip() and not _CALLBACK.search(_plain(message)):
        yield Hit(
            ("voicemail_message",),
            "gives no number to call back (a phone number of 10 or more digits, "
            "or a {{...phone...}} placeholder)",
        )


def voicemail_business(subject: Subject, params: Params) -> Iterator[Hit]:
    message = subject.data.get("voicemail_message")
    names = params["business"]
    if names and isinstance(message, str) and message.strip() and not _says(message, names):
        yield Hit(("voicemail_message",), f"does not name the business ({_listed(names)})")


def opt_out(subject: Subject, params: Params) -> Iterator[Hit]:
    data = subject.data
    if not is_outbound(data) or "prompt" not in data:
        return
    texts = [data.get("prompt")]
    flow = data.get("prompt_flow")
    if isinstance(flow, dict):
        texts += [n.get("data", {}).get("body") for n in flow.get("nodes") or [] if isinstance(n, dict)]
    if not any(_says(t, params["phrases"]) for t in texts):
        yield Hit(
            ("prompt",),
            f"says nothing of a request to stop calling (none of: {_listed(params['phrases'])})",
        )


def fixed_timezone(subject: Subject, params: Params) -> Iterator[Hit]:
    crc = subject.data.get(CRC)
    if isinstance(crc, dict) and crc.get("timezone"):
        yield Hit(
            (CRC, "timezone"),
            "calling windows are read in this one time zone for every recipient, not in each recipient's "
            "own: a recipient elsewhere is called at other local hours",
        )


def retry_no_effect(subject: Subject, params: Params) -> Iterator[Hit]:
    crc = _retry_config(subject.data)
    if crc is not None and crc["call_twice_in_a_row"] and crc["max_retry_attempts"] < 2:
        yield Hit(
            (CRC, "call_twice_in_a_row"),
            "has no effect with max_retry_attempts 1 (it only skips the delay before attempt 2)",
        )


def _transfers(data: Mapping[str, Any]) -> Iterator[tuple[Loc, str]]:
    for i, dest in enumerate(data.get("transfer_destinations") or []):
        if isinstance(dest, dict) and isinstance(dest.get("phone_number"), str):
            yield ("transfer_destinations", i, "phone_number"), dest["phone_number"]
    if isinstance(data.get("transfer_phone_number"), str):
        yield ("transfer_phone_number",), data["transfer_phone_number"]


def transfer_to_self(subject: Subject, params: Params) -> Iterator[Hit]:
    own = subject.data.get("from_phone_number")
    for loc, number in _transfers(subject.data):
        if own and number == own:
            yield Hit(
                loc, f"transfers to {number}, the assistant's own from_phone_number: the call loops back"
            )


# --- rules across files -----------------------------------------------------------------------------------
def transfer_to_own_line(
    items: Sequence[tuple[Subject, Params]], everything: Sequence[Subject]
) -> Iterator[tuple[Subject, Hit]]:
    """A transfer to a number that phone_numbers.yaml routes to the same assistant (by name or by id)."""
    routed: dict[tuple[str, str], list[Subject]] = {}  # by name_key (an id is ASCII: its own key)
    for s in everything:
        for key in ("assistant", "assistant_id"):
            if s.kind == "phone_number" and isinstance(s.data.get(key), str):
                routed.setdefault((key, name_key(s.data[key])), []).append(s)
    for subject, _ in items:
        pinned = subject.data.get("id")
        ways = [
            ("assistant", name_key(subject.name)),
            *([("assistant_id", name_key(pinned))] if isinstance(pinned, str) else []),
        ]
        lines = {s.name: s for way in ways for s in routed.get(way, [])}
        for loc, number in _transfers(subject.data):
            line = lines.get(number)
            if line is not None:
                yield (
                    subject,
                    Hit(
                        loc,
                        f"transfers to {number}, which {line.at_name} routes to this same assistant: the call loops back",
                    ),
                )


def _schedule(data: Mapping[str, Any]) -> tuple[Any, ...] | None:
    crc = _retry_config(data)
    if crc is None:
        return None
    days = tuple(sorted(crc["allowed_days"], key=DAYS.index))
    windows = tuple(sorted((s, e) for _, s, e, _ in _windows(crc)))
    return days, windows, crc["timezone"]


def shared_number_windows(
    items: Sequence[tuple[Subject, Params]], everything: Sequence[Subject]
) -> Iterator[tuple[Subject, Hit]]:
    """Two assistants calling from one number with different calling windows or days."""
    first: dict[str, tuple[Subject, tuple[Any, ...]]] = {}
    for subject, _ in items:
        number = subject.data.get("from_phone_number")
        schedule = _schedule(subject.data)
        if not isinstance(number, str) or schedule is None:
            continue
        seen = first.setdefault(number, (subject, schedule))
        if seen[1] != schedule:
            yield (
                subject,
                Hit(
                    (CRC,),
                    f"calls from {number} like '{seen[0].name}' ({seen[0].at_name}) but with other calling "
                    "windows, days or time zone: one number, one schedule",
                ),
            )


# --- the table --------------------------------------------------------------------------------------------
AI_PHRASES = (
    "AI",
    "A.I.",
    "artificial intelligence",
    "virtual assistant",
    "virtual agent",
    "digital assistant",
    "automated assistant",
    "automated voice",
    "AI-powered",
)
OPT_OUT_PHRASES = (
    "do not call",
    "do-not-call",
    "don't call",
    "not to be called",
    "not be called",
    "stop calling",
    "remove me",
    "removed from",
    "opt out",
    "opt-out",
    "unsubscribe",
    "take me off",
)

BUILTIN: tuple[Rule, ...] = (
    Rule(
        "calling-hours",
        "error",
        "calling windows inside 08:00–21:00 in the recipient's time zone",
        "47 CFR 64.1200(c)(1) (TCPA); FTC Telemarketing Sales Rule, 16 CFR 310.4(c)",
        {"window": ("08:00", "21:00")},
        check=calling_hours,
    ),
    Rule(
        "state-calling-hours",
        "off",
        "calling windows inside the stricter window of the selected state profiles",
        "the state profiles selected in revox-sync.yaml (rules.profiles)",
        {"window": ("08:00", "20:00"), "because": ""},
        check=state_calling_hours,
    ),
    Rule(
        "sunday-calls",
        "off",
        "no calls on Sundays where a selected state profile bans them",
        "the state profiles selected in revox-sync.yaml (Mississippi: Miss. Code Ann. § 77-3-723(1))",
        {"because": ""},
        check=sunday_calls,
    ),
    Rule(
        "retry-cap",
        "off",
        "attempts that can reach one person within 24 hours, call_twice_in_a_row counted, at most a cap",
        "the state profiles selected in revox-sync.yaml (Florida, Oklahoma, Maryland: 3 per 24 hours)",
        {"max_per_day": 3, "because": ""},
        check=retry_cap,
    ),
    Rule(
        "ai-disclosure",
        "error",
        "an outbound assistant's first sentence says the caller is an AI voice",
        "FCC Declaratory Ruling FCC 24-17 (February 2024: AI voices are artificial voices under the TCPA); "
        "Cal. Pub. Util. Code § 2874(a)(3) (2024: an autodialed call says its message uses an artificial voice); "
        "Utah Code § 13-77-103 and § 13-77-104 (2025: disclose generative AI when asked; at the outset is a "
        "safe harbour)",
        {"phrases": AI_PHRASES},
        check=ai_disclosure,
    ),
    Rule(
        "voicemail-callback",
        "error",
        "a voicemail message gives a number to call back",
        "47 CFR 64.1200(b)(2) (a prerecorded message states a telephone number)",
        check=voicemail_callback,
    ),
    Rule(
        "voicemail-business",
        "error",
        "a voicemail message names the business (set business: its names)",
        "47 CFR 64.1200(b)(1) (a prerecorded message identifies the business at its beginning)",
        {"business": ()},
        check=voicemail_business,
        needs=("business",),
    ),
    Rule(
        "opt-out",
        "warning",
        "an outbound assistant's prompt handles a request to stop calling",
        "47 CFR 64.1200(b)(3) and (d)(3) (opt-out and do-not-call requests are honoured)",
        {"phrases": OPT_OUT_PHRASES},
        check=opt_out,
    ),
    Rule(
        "fixed-timezone",
        "warning",
        "calling windows follow each recipient's time zone, not one fixed call_retry_config.timezone",
        "47 CFR 64.1200(c)(1) counts hours at the called party's location",
        check=fixed_timezone,
    ),
    Rule(
        "transfer-to-self",
        "error",
        "no transfer destination is the assistant's own number (from_phone_number or a number routed to it)",
        "a sure mistake: the transferred call comes back to the same assistant",
        check=transfer_to_self,
        across=transfer_to_own_line,
        kinds=("assistant", "phone_number"),
    ),
    Rule(
        "shared-number-windows",
        "warning",
        "assistants that call from one number share its calling windows, days and time zone",
        "a sure mistake: recipients of one caller id get calls at hours the others do not allow",
        across=shared_number_windows,
    ),
    Rule(
        "retry-no-effect",
        "warning",
        "call_twice_in_a_row with max_retry_attempts 1 does nothing",
        "the API: call_twice_in_a_row only affects the first retry",
        check=retry_no_effect,
    ),
)
